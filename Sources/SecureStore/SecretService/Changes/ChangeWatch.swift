#if canImport(CLibSecret)
/// One `changes(options:)` stream's view of the keyring: the path and key of each watched item,
/// whether the default collection is locked, whether the service runs.
struct ChangeWatch: Sendable {
    let backend: SecretServiceBackend
    let options: SecureStoreOptions
    var keysByPath: [String: String] = [:]
    var isLocked = false
    var serviceIsUp = true
    /// Paths named by signals whose batch the service could not answer for (its search failed
    /// twice): their keys are reported by the next catch-up, unless a later batch that was
    /// answered names them first (it reports what they hold then).
    private var unresolvedPaths: Set<String> = []
    /// A catch-up failed, or more paths went unanswered than are kept: the watched items must
    /// be learnt anew whatever later batches report.
    private var mustLearnAnew = false
    /// Whether the watched items must be learnt anew (``resynchronize()``) while the service
    /// runs. (A service that is gone is caught up with when it comes back.)
    var owesCatchUp: Bool { serviceIsUp && (mustLearnAnew || !unresolvedPaths.isEmpty) }

    /// How long a stream waits before it asks again a service that could not answer.
    static let catchUpRetryDelay = Duration.seconds(1)

    /// What the consumer has been told.
    private(set) var delivery: ChangeDelivery

    init(backend: SecretServiceBackend, options: SecureStoreOptions, delivery: ChangeDelivery) {
        self.backend = backend
        self.options = options
        self.delivery = delivery
    }

    /// Tells a consumer that fell behind what changed since, once it has made room.
    mutating func tellWhatTheConsumerMissed() {
        delivery.catchUp(keys: Set(keysByPath.values), isLocked: isLocked, serviceIsUp: serviceIsUp)
    }

    /// The attributes every watched item has.
    private var selection: [String: String] {
        ItemSchema.attributes(applicationID: backend.applicationID, key: nil, options: options, isSynchronizable: nil)
    }

    mutating func start() async {
        guard let snapshot = await snapshot() else {
            serviceIsUp = false
            delivery.report(.serviceUnavailable)
            return
        }
        keysByPath = snapshot.keysByPath
        isLocked = snapshot.isLocked
        delivery.startFrom(keys: Set(keysByPath.values), isLocked: isLocked)
    }

    /// Handles `signals` in order, against one view of the watched items taken for the batch
    /// (``BatchView``): other applications' items, however busy, cost nothing but that one search.
    mutating func handle(_ signals: [SecretServiceSignal]) async {
        let signals = Self.withoutRepeats(signals)
        var named = Set<String>()
        for signal in signals {
            switch signal {
            case .itemCreated(let path), .itemChanged(let path), .itemDeleted(let path): named.insert(path)
            case .collectionChanged, .serviceOwnerChanged: break
            }
        }
        // Taken once the service is up: a batch that brings it back learns its items anew.
        var view: BatchView?
        if serviceIsUp && !named.isEmpty {
            view = await batchView(naming: named)
            if view == nil { view = await batchView(naming: named) }   // one failed call is no verdict
            if view != nil {
                unresolvedPaths.subtract(named)
            } else {
                unresolvedPaths.formUnion(named)
                // Bounded as the signal queue is: past it, the catch-up reports what it would
                // after dropped signals.
                if unresolvedPaths.count > SignalQueue.capacity {
                    unresolvedPaths.removeAll()
                    mustLearnAnew = true
                }
            }
        }
        // One lock state read answers for every collection signal of the batch: it is read
        // after the batch was gathered, so a second read could only say the same. (KeePassXC
        // sends `CollectionChanged` with every item it creates or deletes: a busy keyring's
        // batch holds hundreds.) A new owner of the service makes the next one read again.
        var lockStateIsRead = false
        for signal in signals {
            switch signal {
            case .collectionChanged:
                guard !lockStateIsRead else { continue }
                lockStateIsRead = await handleCollectionChange()
            case .serviceOwnerChanged:
                lockStateIsRead = false
                await handle(signal, view: view)
            case .itemCreated, .itemChanged, .itemDeleted:
                await handle(signal, view: view)
            }
        }
    }

    /// The watched items when a batch is handled: one search of the watched service, and the
    /// attributes of those the batch names.
    struct BatchView {
        var watched: Set<String>
        var attributes: [String: [String: String]]
    }

    /// One search of the watched service, and the attributes of the items it found that
    /// `named` names; `nil` when the service cannot say.
    private func batchView(naming named: Set<String>) async -> BatchView? {
        let selection = self.selection, timeout = backend.timeout
        return try? await backend.withConnection { connection in
            let found = try await connection.searchItems(selection, timeout: timeout)
            let watched = Set(found.unlocked + found.locked)
            let attributes = try await connection.attributes(ofItemsAt: Array(watched.intersection(named)), timeout: timeout)
            return BatchView(watched: watched, attributes: attributes)
        }
    }

    /// The watched items that hold `key`, as far as `view` and the paths known before tell.
    private func holders(of key: String, in view: BatchView) -> [String] {
        view.watched.filter { path in
            (view.attributes[path].map(watchedKey(in:)) ?? keysByPath[path]) == key
        }
    }

    /// `signals` without an item's creation or change already announced earlier in the batch,
    /// unless a deletion of that item came in between. The batch reads each item once, so a
    /// repeat could only report the key changed again. KWallet announces a new item as changed
    /// and then created, and KeePassXC a new item in 3 `ItemCreated` and 18 `ItemChanged`
    /// (`dbus-monitor`, with the alias's copies dropped: `ProviderQuirks.isAliasEcho`).
    static func withoutRepeats(_ signals: [SecretServiceSignal]) -> [SecretServiceSignal] {
        var announced = Set<String>()
        return signals.filter { signal in
            switch signal {
            case .itemCreated(let path), .itemChanged(let path): return announced.insert(path).inserted
            case .itemDeleted(let path): announced.remove(path); return true
            case .collectionChanged, .serviceOwnerChanged: return true
            }
        }
    }

    /// `view`: the watched items when the batch is handled (`nil`: the service could not say,
    /// and the batch's item signals change nothing).
    private mutating func handle(_ signal: SecretServiceSignal, view: BatchView?, ) async {
        switch signal {
        case .itemCreated(let path), .itemChanged(let path):
            guard serviceIsUp, let view else { return }
            // Not among the watched items: another application's, or edited or deleted since.
            var newKey = view.watched.contains(path) ? view.attributes[path].flatMap(watchedKey(in:)) : nil
            if newKey == nil, let known = keysByPath[path] {
                // KWallet, with other clients busy, announced an in-place overwrite as a change
                // of the old path, which then held the key no more, and the key at a newly
                // created path only after it: the view says who holds the key now.
                let holders = holders(of: known, in: view)
                if holders.contains(path) { newKey = known }
                for other in holders where other != path { keysByPath[other] = known }
            }
            move(path, to: newKey)
        case .itemDeleted(let path):
            guard serviceIsUp, let view else { return }
            // A removal is confirmed by the item itself being gone from the watched ones.
            if let known = keysByPath[path], view.watched.contains(path),
               view.attributes[path].flatMap(watchedKey(in:)) == known { return }
            if let key = keysByPath[path], !keysByPath.contains(where: { $0.key != path && $0.value == key }) {
                // The last item known to hold `key`. An overwrite that makes a new item deletes
                // the old one, and the new one's announcement may come later (KeePassXC's
                // removal during an overwrite under load), so the view says who holds it now.
                for other in holders(of: key, in: view) where other != path { keysByPath[other] = key }
            }
            move(path, to: nil)
        case .collectionChanged:
            break   // a batch reads the lock state once for all of them (`handle(_:)`)
        case .serviceOwnerChanged(hasOwner: false):
            guard serviceIsUp else { return }
            serviceIsUp = false
            delivery.report(.serviceUnavailable)
        case .serviceOwnerChanged(hasOwner: true):
            guard !serviceIsUp else { return }
            serviceIsUp = true
            delivery.report(.serviceAvailable)
            await catchUp()
        }
    }

    /// Reads the lock state after a collection signal and reports a lock or an unlock; whether
    /// the service answered.
    private mutating func handleCollectionChange() async -> Bool {
        guard serviceIsUp else { return false }
        guard let locked = await lockState() else { return false }
        guard locked != isLocked else { return true }
        isLocked = locked
        delivery.report(locked ? .locked : .unlocked)
        // A keyring that was never unlocked may have hidden its items from searches.
        if !locked { await catchUp() }
        return true
    }

    /// Records that the item at `path` now holds `newKey` (`nil`: none, or not watched) and
    /// reports what that did to the keys.
    private mutating func move(_ path: String, to newKey: String?, ) {
        let before = Set(keysByPath.values)
        let oldKey = keysByPath[path]
        keysByPath[path] = newKey
        let after = Set(keysByPath.values)
        if let newKey {
            delivery.report(before.contains(newKey) ? .changed(key: newKey) : .added(key: newKey))
        }
        if let oldKey, oldKey != newKey {
            delivery.report(after.contains(oldKey) ? .changed(key: oldKey) : .removed(key: oldKey))
        }
    }

    /// After a batch went unanswered: learns the items anew and reports keys added or removed
    /// meanwhile, and those the unanswered batches named as changed.
    mutating func resynchronize() async {
        await catchUp()
    }

    /// After signals were dropped (see `SignalQueue`): learns the items anew and reports keys
    /// added or removed meanwhile, and every key still there as changed, since any of them may
    /// have been overwritten unheard. A second report is the price; a lost one never is.
    mutating func resynchronizeAfterDroppedSignals() async {
        unresolvedPaths.formUnion(keysByPath.keys)
        await catchUp()
    }

    /// After the service came back or the keyring was unlocked: learns the items anew and
    /// reports keys added or removed meanwhile (a restart changes every path).
    private mutating func catchUp() async {
        guard let snapshot = await snapshot() else {
            mustLearnAnew = true
            return
        }
        mustLearnAnew = false
        if snapshot.isLocked != isLocked {
            isLocked = snapshot.isLocked
            delivery.report(isLocked ? .locked : .unlocked)
        }
        // A locked keyring that was never unlocked lists nothing: that is no removal.
        if snapshot.isLocked && snapshot.keysByPath.isEmpty { return }
        let before = keysByPath, after = snapshot.keysByPath
        keysByPath = after
        let keysBefore = Set(before.values), keysAfter = Set(after.values)
        // Held by a path an unanswered signal named, before or now: maybe overwritten. A second
        // report is the price; a lost one never is.
        let named = Set(unresolvedPaths.compactMap { before[$0] } + unresolvedPaths.compactMap { after[$0] })
        unresolvedPaths = []
        for key in keysBefore.subtracting(keysAfter).sorted() { delivery.report(.removed(key: key)) }
        for key in keysAfter.subtracting(keysBefore).sorted() { delivery.report(.added(key: key)) }
        for key in named.intersection(keysBefore).intersection(keysAfter).sorted() { delivery.report(.changed(key: key)) }
    }

    private struct Snapshot {
        var keysByPath: [String: String]
        var isLocked: Bool
    }

    /// The watched items and the lock state, or `nil` when the service cannot say.
    private func snapshot() async -> Snapshot? {
        let selection = self.selection, timeout = backend.timeout
        return try? await backend.withConnection { connection in
            let found = try await connection.searchItems(selection, timeout: timeout)
            let attributes = try await connection.attributes(ofItemsAt: found.unlocked + found.locked,
                                                             only: SecretServiceBackend.Attribute.key, timeout: timeout)
            let locked = try await connection.isLocked(collectionAt: SecretServiceConnection.defaultCollection, timeout: timeout)
            // Keys are checked here as everywhere the stream learns them: another program's
            // item can hold any text, terminal escapes included.
            let keysByPath = attributes.compactMapValues { $0[SecretServiceBackend.Attribute.key].flatMap(Self.validKey) }
            return Snapshot(keysByPath: keysByPath, isLocked: locked)
        }
    }

    /// The key an item with `attributes` holds if it is a watched one; `nil` for another item.
    private func watchedKey(in attributes: [String: String]) -> String? {
        // Bytes, not canonical equivalence: `café` spelt two ways is two services.
        guard selection.allSatisfy({ attributes[$0.key]?.isExactly($0.value) == true }) else { return nil }
        return attributes[SecretServiceBackend.Attribute.key].flatMap(Self.validKey)
    }

    /// `key` when it is a valid key (one `allKeys` would list), else `nil`.
    static func validKey(_ key: String) -> String? {
        Validation.isValidKey(key) ? key : nil
    }

    private func lockState() async -> Bool? {
        let timeout = backend.timeout
        return try? await backend.withConnection { connection in
            try await connection.isLocked(collectionAt: SecretServiceConnection.defaultCollection, timeout: timeout)
        }
    }
}
#endif
