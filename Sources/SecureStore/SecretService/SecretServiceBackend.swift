#if canImport(CLibSecret)
import Dispatch
import Glibc
import Synchronization

/// Whether a store may show the desktop's unlock dialog when the keyring is locked.
public enum UserInteraction: Sendable, Hashable {
    /// Ask the Secret Service to unlock, which shows its password dialog (desktop apps).
    case allowed
    /// Fail at once with ``SecureStoreError/Code/interactionNotAllowed`` (daemons, scripts, tests).
    case notAllowed
}

/// The default backend: items in the freedesktop Secret Service (GNOME Keyring, KWallet,
/// KeePassXC) through libsecret.
///
/// Each item is one Secret Service item in the default collection, found by these attributes:
///
/// | attribute | value |
/// | --- | --- |
/// | `xdg:schema` | ``schemaName`` |
/// | `application` | the application ID (items of an access group have none) |
/// | `access-group` | `accessGroup`, only on items written with one |
/// | `service` | `keychainService`, `app` by default |
/// | `key` | the key |
/// | `accessible` | Expo's constant name, e.g. `WHEN_UNLOCKED` |
/// | `synchronizable` | `true` or `false` |
///
/// Its label reads `application / service / key` (`group / service / key` for a group's item).
/// Lookups match application (or access group), service, key and synchronizable only, so
/// changing the accessibility replaces the item instead of adding one. The secret's content type
/// is `text/plain` for a string and `application/octet-stream` for bytes, and for a string that
/// KWallet or KeePassXC would change as text (one holding U+0000, or starting with a byte order
/// mark): exactness wins over the label.
///
/// The application ID is a namespace, not a security boundary: any process of the same user
/// can ask the Secret Service for any item of an unlocked collection.
///
/// Nothing blocks Swift's cooperative pool. Reads (`getItem`'s common case, `containsItem`,
/// `allKeys`, `isAvailable`) send their D-Bus calls without waiting, and a message filter on the bus
/// connection hands each reply to the waiting task; everything else (writes, locked items, the
/// unlock dialog, opening a connection) runs libsecret's blocking calls on threads this backend
/// owns. Every wait on the service has a timeout, and calls honour task cancellation.
public final class SecretServiceBackend: SecureStoreBackend {
    /// The `xdg:schema` attribute of every item this package writes.
    public static let schemaName = "dev.securestore.Item"

    /// The attribute names of SecureStore's items, for `secret-tool` and other clients.
    public enum Attribute {
        public static let schema = "xdg:schema"
        public static let application = "application"
        public static let accessGroup = "access-group"
        public static let service = "service"
        public static let key = "key"
        public static let accessible = "accessible"
        public static let synchronizable = "synchronizable"

        /// Every attribute SecureStore writes (providers may add their own).
        static let all = [schema, application, accessGroup, service, key, accessible, synchronizable]
    }

    public let applicationID: String
    public let userInteraction: UserInteraction
    /// How long a call may wait for any one answer from the Secret Service (a D-Bus reply, or
    /// the user at the unlock dialog) before it ends with ``SecureStoreError/Code/timeout``. A
    /// bulk call such as `deleteAll` of many items may take longer in all.
    public let timeout: Duration

    /// A backend for `applicationID`'s items.
    ///
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an empty application ID, one
    ///   with a control character, or a timeout that is not positive. Nothing is contacted yet.
    public init(applicationID: String, userInteraction: UserInteraction = .allowed, timeout: Duration = .seconds(30)) throws {
        try Validation.checkApplicationID(applicationID)
        guard timeout > .zero else { throw SecureStoreError.invalidOptions("The timeout must be positive.") }
        self.applicationID = applicationID
        self.userInteraction = userInteraction
        self.timeout = timeout
    }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool {
        // A non-blocking call: the answer never waits behind other calls' blocking work.
        let timeout = min(timeout, .seconds(3))
        return (try? await withConnection(timeout: timeout) { connection in
            try await connection.collectionPath(forAlias: "default", timeout: timeout) != nil
        }) ?? false
    }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        let contentType = Self.contentType(of: value, kind: kind)
        try await Self.itemLocks.withLock(lockName(key, options)) {
            let recovery = WriteRecovery()
            do {
                try await self.writeVerified(value, contentType: contentType, forKey: key, options: options, recovery)
            } catch where recovery.isUnverified {
                throw await self.undo(recovery, forKey: key, options: options)
            }
        }
    }

    /// `setItem` without its lock, its read-backs recorded in `recovery` when given.
    func writeVerified(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                       _ recovery: WriteRecovery? = nil) async throws {
        try await perform { call in
            // A locked collection refuses the write; then unlock it (if allowed) and start
            // over, because it may also have hidden existing items from the search.
            do {
                try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
            } catch let error as GLibError where error.is(GLibErrors.secret, GLibErrors.isLocked) {
                try call.unlockDefaultCollection()
                try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
            } catch let error as GLibError where GLibErrors.isNoSuchObject(error) {
                // No default collection (a fresh account's keyring has no login keyring yet):
                // make one, as libsecret's secret_password_store does, then write.
                guard try call.createDefaultCollectionIfMissing() else { throw error }
                try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
            }
        }
    }

    /// `deleteItem` without its lock.
    func deleteItems(forKey key: String, options: SecureStoreOptions) async throws {
        try await perform { call in
            try call.deleteItems(matching: self.attributes(key: key, options: options, isSynchronizable: nil))
        }
    }

    /// The content type an item is stored with: the kind's, except that text the providers
    /// would change as text is labelled as bytes: exactness wins over the label. KWallet cuts
    /// `text/*` secrets at the first NUL, and KWallet and KeePassXC both drop a leading byte
    /// order mark (Qt's `QString::fromUtf8`). gnome-keyring ignores the label and reports
    /// `text/plain` for every secret.
    static func contentType(of value: [UInt8], kind: ValueKind) -> String {
        guard kind == .text else { return kind.contentType }
        let changedAsText = value.contains(0) || value.starts(with: [0xEF, 0xBB, 0xBF])
        return changedAsText ? ValueKind.bytes.contentType : kind.contentType
    }

    /// One attempt at `setItem`: find the key's items, then create or replace.
    private func write(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                       _ recovery: WriteRecovery?, _ call: Call) throws {
        let label = Self.label(applicationID: applicationID, key: key, options: options)
        let existing = try options.synchronizable.matchingStates.map { isSynchronizable in
            (isSynchronizable, try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable)))
        }
        for (isSynchronizable, found) in Self.writeTargets(existing, options, isEmpty: { $0.all.isEmpty }) {
            try call.ensureUnlocked(found.locked)
            if let recovery, ProviderQuirks.writesNeedReadBack(call.connection.provider) {
                try recovery.rememberOnce(isSynchronizable) { try call.previous(of: found.all.first) }
            }
            var itemAttributes = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
            itemAttributes[Attribute.accessible] = options.keychainAccessible.expoName
            // The same item, only a new value: replace its secret. (KeePassXC 2.7.4 answers
            // CreateItem(replace: true) over an existing item with an "Access Request" dialog,
            // even with ConfirmAccessItem off; SetSecret asks nothing. Fixed upstream in 2.7.6.
            // GNOME Keyring does not announce SetSecret, so there CreateItem replaces it.)
            // Otherwise (new attributes, no item, or one deleted meanwhile by another process) a
            // new item, which exists before the old one goes, so the key never reads as missing.
            let replacesSecrets = ProviderQuirks.announcesNewSecrets(call.connection.provider)
            let path = try found.all.first.flatMap { replacesSecrets ? try call.replaceSecretIfSameItem($0, itemAttributes, value, contentType) : nil }
                ?? call.createItem(label: label, attributes: itemAttributes, value: value, contentType: contentType)
            do {
                try call.checkStored(value, at: path)
            } catch {
                recovery?.markUnverified()
                throw error
            }
            for stale in found.all where stale != path {
                try call.deleteItem(at: stale)
            }
        }
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        if options.synchronizable != .any,
           case .answer(let value) = try await withConnection({ try await self.quickGetItem(forKey: key, options: options, $0) }) {
            return value?.take()
        }
        // Taken here, on the caller's task: see `SecretBytes`.
        return try await perform { call -> SecretBytes? in
            repeat {
                for isSynchronizable in options.synchronizable.matchingStates {
                    var found = try call.search(self.attributes(key: key, options: options, isSynchronizable: isSynchronizable))
                    // An overwrite that changes the accessibility replaces the item: the one
                    // found may be gone by now, and its successor is then found by searching again.
                    for _ in 0..<3 where !found.unlocked.isEmpty {
                        for path in found.unlocked {
                            if let value = try call.secret(ofItemAt: path) { return value }
                        }
                        found = try call.search(self.attributes(key: key, options: options, isSynchronizable: isSynchronizable))
                    }
                    if let path = found.locked.first {
                        // Locked is never missing: unlock (or fail), then read.
                        try call.ensureUnlocked(found.locked)
                        guard let value = try call.secret(ofItemAt: path) else {
                            throw SecureStoreError(.authenticationCanceled, "The keyring was locked again before the item could be read.")
                        }
                        return value
                    }
                }
            } while try call.unlockIfMissMayBeHidden()
            return nil
        }?.take()
    }

    private enum QuickAnswer {
        case answer(SecretBytes?)
        /// Not the common case: take the full path on a worker thread.
        case undecided
    }

    /// `getItem`'s common case, an unlocked item or a miss in an unlocked keyring, with calls
    /// that block no thread. Locked items, and an item replaced meanwhile, are left undecided for
    /// the full path, which unlocks or searches again.
    private func quickGetItem(forKey key: String, options: SecureStoreOptions, _ connection: SecretServiceConnection) async throws -> QuickAnswer {
        // Before the search, where the provider needs it (it would hold the search, or show a
        // dialog, while locked): that answer also serves a miss below.
        let lockedReadFirst = ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider)
        if lockedReadFirst, try await connection.isLocked(collectionAt: Call.defaultCollection, timeout: timeout) {
            return .undecided
        }
        let selection = attributes(key: key, options: options, isSynchronizable: nil)
        if connection.remembersItemPaths, let remembered = connection.itemPaths.recall(selection),
           let value = try await readRemembered(remembered, selection, connection) {
            return .answer(value)
        }
        let generation = SecretServiceSignals.currentGeneration
        let found = try await connection.searchItems(selection, timeout: timeout)
        if found.unlocked.isEmpty && found.locked.isEmpty {
            // A locked keyring may hide its items even from searches (see unlockIfMissMayBeHidden).
            if lockedReadFirst { return .answer(nil) }
            return try await connection.isLocked(collectionAt: Call.defaultCollection, timeout: timeout) ? .undecided : .answer(nil)
        }
        guard found.locked.isEmpty else { return .undecided }
        let secrets: [String: SecretBytes]
        do {
            secrets = try await connection.secrets(ofItemsAt: found.unlocked, timeout: timeout)
        } catch let error as GLibError where GLibErrors.isNoSuchObject(error) {
            return .undecided   // KWallet fails the whole call when one item went away meanwhile
        }
        guard let value = Self.firstSecret(of: found.unlocked, in: secrets) else { return .undecided }
        if connection.remembersItemPaths {
            connection.itemPaths.remember(found.unlocked, for: selection, foundAt: generation)
        }
        return .answer(value)
    }

    /// The secret of the first of `paths` that has one. Every other secret the reply carried
    /// (a key's duplicates) is zeroed now.
    static func firstSecret(of paths: [String], in secrets: [String: SecretBytes]) -> SecretBytes? {
        let first = paths.lazy.compactMap { secrets[$0] }.first
        for secret in secrets.values where secret !== first { secret.zero() }
        return first
    }

    private static let rememberedReadCount = Atomic(0)

    /// How many `getItem` calls in this process were answered from a remembered item path,
    /// in one round trip: for tests that must know the path was taken.
    @_spi(SecureStoreInternal)
    public static var rememberedReads: Int { rememberedReadCount.load(ordering: .relaxed) }

    /// The secret at a remembered path, read with one `GetSecrets`, if no change signal came
    /// before its reply (see `ItemPathMemory`); `nil` sends the caller to the search. Only
    /// timeouts, cancellation and a lost service are thrown: everything else (an item gone, or
    /// locked, meanwhile) is a reason to search.
    private func readRemembered(_ remembered: ItemPathMemory.Entry, _ selection: [String: String],
                                _ connection: SecretServiceConnection) async throws -> SecretBytes? {
        do {
            let secrets = try await connection.secrets(ofItemsAt: remembered.paths, timeout: timeout)
            if let value = Self.firstSecret(of: remembered.paths, in: secrets) {
                guard SecretServiceSignals.currentGeneration == remembered.generation else {
                    value.zero()
                    connection.itemPaths.forget(selection)
                    return nil
                }
                Self.rememberedReadCount.add(1, ordering: .relaxed)
                return value
            }
        } catch let error as GLibError where !GLibErrors.isTimeout(error) && !GLibErrors.needsNewConnection(error) {
            // Gone or locked meanwhile: search.
        }
        connection.itemPaths.forget(selection)
        return nil
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try await Self.itemLocks.withLock(lockName(key, options)) {
            try await self.deleteItems(forKey: key, options: options)
        }
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try await withConnection { connection in
            try await !self.itemPaths(key: key, options: options, connection).isEmpty
        }
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try await withConnection { connection in
            let paths = try await self.itemPaths(key: nil, options: options, connection)
            let attributes = try await connection.attributes(ofItemsAt: paths, only: Attribute.key, timeout: self.timeout)
            return Set(attributes.values.compactMap { $0[Attribute.key].map(ExactName.init) }).sorted().map(\.string)
        }
    }

    /// The paths of the key's items (or with `key: nil`, the service's), locked or not, without
    /// a dialog: a locked keyring lists its items' attributes. But one never unlocked since its
    /// daemon started hides them even from searches, so a miss there is an error, not "none".
    private func itemPaths(key: String?, options: SecureStoreOptions, _ connection: SecretServiceConnection) async throws -> [String] {
        if ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider),
           try await connection.isLocked(collectionAt: Call.defaultCollection, timeout: timeout) {
            throw Call.hiddenByLock
        }
        let found = try await connection.searchItems(attributes(key: key, options: options, isSynchronizable: nil), timeout: timeout)
        let paths = found.unlocked + found.locked
        if paths.isEmpty, try await connection.isLocked(collectionAt: Call.defaultCollection, timeout: timeout) {
            throw Call.hiddenByLock
        }
        return paths
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try await perform { call in
            try call.deleteItems(matching: self.attributes(key: nil, options: options, isSynchronizable: nil))
        }
    }

    // MARK: - Internal, for tests and tools

    /// What the keyring records about this application's items under (service, key), values
    /// left out; one entry per item.
    func records(service: String, key: String, accessGroup: String? = nil) async throws -> [InMemoryBackend.Record] {
        let options = SecureStoreOptions(keychainService: service, synchronizable: .any, accessGroup: accessGroup)
        return try await withConnection { connection in
            let paths = try await self.itemPaths(key: key, options: options, connection)
            return try await connection.attributes(ofItemsAt: paths, timeout: self.timeout).values.map(Self.record)
        }
    }

    /// What the keyring records about every item of this application (or with `accessGroup`,
    /// of that group), whatever its service; values left out. A keyring whose lock hides its
    /// items throws rather than answer "none".
    func allRecords(accessGroup: String? = nil) async throws -> [InMemoryBackend.Record] {
        try await withConnection { connection in
            let attributes = [Attribute.schema: Self.schemaName].merging(Self.namespace(applicationID: self.applicationID, accessGroup)) { $1 }
            let found = try await connection.searchItems(attributes, timeout: self.timeout)
            let paths = found.unlocked + found.locked
            if paths.isEmpty, try await connection.isLocked(collectionAt: Call.defaultCollection, timeout: self.timeout) {
                throw Call.hiddenByLock
            }
            return try await connection.attributes(ofItemsAt: paths, timeout: self.timeout).values.map(Self.record)
        }
    }

    /// Deletes every item of this application (or with `accessGroup`, of that group),
    /// whatever its service.
    func deleteEverything(accessGroup: String? = nil) async throws {
        try await perform { call in
            try call.deleteItems(matching: [Attribute.schema: Self.schemaName].merging(Self.namespace(applicationID: self.applicationID, accessGroup)) { $1 })
        }
    }

    // MARK: - Attributes

    /// The attributes that select items: the key's item(s), or with `key: nil` the service's.
    /// `isSynchronizable: nil` follows `options.synchronizable` (`.any` leaves it out).
    private func attributes(key: String?, options: SecureStoreOptions, isSynchronizable: Bool?) -> [String: String] {
        Self.attributes(applicationID: applicationID, key: key, options: options, isSynchronizable: isSynchronizable)
    }

    /// The same, for any application: the sandbox keyring's items carry the same attributes.
    static func attributes(applicationID: String, key: String?, options: SecureStoreOptions, isSynchronizable: Bool?) -> [String: String] {
        var attributes = namespace(applicationID: applicationID, options.accessGroup)
        attributes[Attribute.schema] = schemaName
        attributes[Attribute.service] = options.service
        if let key { attributes[Attribute.key] = key }
        let states = isSynchronizable.map { [$0] } ?? options.synchronizable.matchingStates
        if states.count == 1 { attributes[Attribute.synchronizable] = states[0] ? "true" : "false" }
        return attributes
    }

    /// The attribute that keeps items apart: the access group's, or else the application's.
    /// An item has one of the two, so a search by either never finds the other kind.
    static func namespace(applicationID: String, _ accessGroup: String?) -> [String: String] {
        accessGroup.map { [Attribute.accessGroup: $0] } ?? [Attribute.application: applicationID]
    }

    /// An item's label: `application / service / key` (`group / service / key` for a group's).
    static func label(applicationID: String, key: String, options: SecureStoreOptions) -> String {
        "\(options.accessGroup ?? applicationID) / \(options.service) / \(key)"
    }

    /// A record of an item's attributes, values left out, for tests and tools.
    static func record(_ attributes: [String: String]) -> InMemoryBackend.Record {
        InMemoryBackend.Record(
            application: attributes[Attribute.application], accessGroup: attributes[Attribute.accessGroup],
            service: attributes[Attribute.service] ?? "", key: attributes[Attribute.key] ?? "",
            accessible: attributes[Attribute.accessible].flatMap(KeychainAccessible.init(expoName:)) ?? .whenUnlocked,
            isSynchronizable: attributes[Attribute.synchronizable] == "true")
    }

    private func lockName(_ key: String, _ options: SecureStoreOptions) -> ExactName {
        Self.lockName(applicationID: applicationID, key: key, options: options)
    }

    /// The name that serialises writes to one key within a process, for any backend on these
    /// attributes. NUL cannot occur in any part (validated), so the name is unambiguous.
    static func lockName(applicationID: String, key: String, options: SecureStoreOptions) -> ExactName {
        let namespace = options.accessGroup.map { "group\u{0}\($0)" } ?? "application\u{0}\(applicationID)"
        return ExactName("\(namespace)\u{0}\(options.service)\u{0}\(key)")
    }

    /// Which of a key's synchronizable states a write updates, given what each state holds:
    /// the one `options` names, or with `.any` every state that has items (with none, a
    /// non-synchronizable item is made).
    static func writeTargets<Found>(_ existing: [(Bool, Found)], _ options: SecureStoreOptions,
                                    isEmpty: (Found) -> Bool) -> [(Bool, Found)] {
        guard options.synchronizable == .any else { return existing }
        let targets = existing.filter { !isEmpty($0.1) }
        return targets.isEmpty ? [existing[0]] : targets
    }

    private static let itemLocks = KeyedLock<ExactName>()

    /// The default collection, where items are written, by its alias path.
    static let defaultCollectionPath = "/org/freedesktop/secrets/aliases/default"

    // MARK: - Running calls

    /// One connection per process, opened on first use and replaced after the service goes away.
    private static let sharedConnection = Mutex<SecretServiceConnection?>(nil)

    /// Runs `work` with the shared connection, opening one (on a worker thread) if there is
    /// none, and maps whatever it throws to `SecureStoreError` (or `CancellationError`): the
    /// way into the service for every call. A connection kept from earlier calls may predate a
    /// daemon restart; when `work` finds that its service went away, it runs once more on a new
    /// connection. Every call's steps may be repeated.
    func withConnection<T: Sendable>(timeout: Duration? = nil, _ work: (SecretServiceConnection) async throws -> T) async throws -> T {
        try Task.checkCancellation()
        let timeout = timeout ?? self.timeout
        do {
            // Three tries: the kept connection, then new ones (a KWallet session whose key
            // exchange failed fails again on the same connection; a new one is almost always sound).
            for attempt in 1...3 {
                let kept = Self.sharedConnection.withLock { $0 }
                let connection = if let kept { kept } else { try await Self.openConnection(timeout: timeout) }
                do {
                    return try await work(connection)
                } catch let error as GLibError where GLibErrors.needsNewConnection(error) {
                    Self.forget(connection)
                    if attempt == 3 { throw error }
                }
            }
            preconditionFailure("unreachable: the last attempt returns or throws")
        } catch {
            throw Self.secureStoreError(from: error)
        }
    }

    /// Runs blocking `work` on a worker thread (see `withConnection`), for everything that uses
    /// libsecret's blocking calls: writes, locked items, the unlock dialog.
    private func perform<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable (Call) throws -> T) async throws -> T {
        let timeout = timeout ?? self.timeout
        let interaction = userInteraction
        return try await withConnection(timeout: timeout) { connection in
            try await Self.onWorker(timeout: timeout) { cancellation in
                try work(Call(connection: connection, cancellation: cancellation, userInteraction: interaction))
            }
        }
    }

    /// Runs `work` on one of the backend's threads with a GCancellable that the task's
    /// cancellation cancels, and a watchdog that cancels it when one step (a D-Bus call, or the
    /// unlock dialog) has waited `timeout`; that ends in `timeoutError`, as does a step that
    /// still has not ended two seconds later. Other errors are passed on as thrown.
    ///
    /// With `cancelsCalls: false` (see `GCancellation`), the caller is let go instead: at once
    /// on task cancellation, at the timeout on the watchdog, and the work finishes unobserved.
    static func onWorker<T: Sendable>(
        _ workers: BlockingWorkers = .shared, timeout: Duration, cancelsCalls: Bool = true,
        _ work: @escaping @Sendable (GCancellation) throws -> T
    ) async throws -> T {
        let cancellation = GCancellation(cancelsCalls: cancelsCalls)
        let resumption = ResumeOnce<T>()
        // A lock holder's lock lasts until this work ends, even when its caller is let go first.
        let outstanding = OutstandingWork.current
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                resumption.attach(continuation)
                // Cancelled before it started: nothing to run (a second resume is ignored).
                guard !cancellation.isCancelled else { return resumption.resume(with: .failure(CancellationError())) }
                outstanding?.begin()
                let watchdog = Watchdog(timeout: timeout, idleNanoseconds: { cancellation.nanosecondsInStep }) {
                    // The way out first: cancelling may block (see GCancellation.init).
                    if cancelsCalls {
                        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) {
                            resumption.resume(with: .failure(timeoutError(timeout)))
                        }
                    } else {
                        resumption.resume(with: .failure(timeoutError(timeout)))
                    }
                    cancellation.timeOut()
                }
                workers.submit {
                    let result = Result { try work(cancellation) }
                    outstanding?.end()
                    watchdog.stop()
                    resumption.resume(with: result.mapError { error in
                        cancellation.timedOut && GCancellation.isCancellation(error) ? timeoutError(timeout) : error
                    })
                }
            }
        } onCancel: {
            cancellation.cancel()
            if !cancelsCalls { resumption.resume(with: .failure(CancellationError())) }
        }
    }

    /// Opens a connection (on a worker thread) and shares it, unless another call shared one first.
    private static func openConnection(timeout: Duration) async throws -> SecretServiceConnection {
        try checkSessionBus()
        let opened: SecretServiceConnection
        do {
            // Many calls at once (a process's first, or every task after a daemon restart) each
            // queue a job here, on the one thread that opens connections: the first opens, the
            // rest take what it opened. Each libsecret proxy opened and dropped leaves a few KB
            // inside GLib, so a restart must cost one open, not one per task, and
            // the waiting must not fill the worker pool (it added 9 threads and 18 descriptors).
            opened = try await onWorker(BlockingWorkers.connectionOpener, timeout: timeout) { cancellation in
                if let shared = sharedConnection.withLock({ $0 }) { return shared }
                var attempt = 1
                while true {
                    do {
                        let fresh = try SecretServiceConnection(cancellation: cancellation)
                        sharedConnection.withLock { $0 = fresh }
                        return fresh
                    } catch {
                        guard (error as? GLibError).map(ProviderQuirks.isKWalletsRejectedPublicKey) == true, attempt < 3 else { throw error }
                        attempt += 1   // a new attempt sends a new public key
                    }
                }
            }
        } catch let error as GLibError {
            throw ConnectionFailure(error: error)
        }
        return sharedConnection.withLock { shared in
            if let shared { return shared }
            shared = opened
            return opened
        }
    }

    /// Stops sharing `connection`, so that the next call opens a new one.
    private static func forget(_ connection: SecretServiceConnection) {
        sharedConnection.withLock { if $0 === connection { $0 = nil } }
    }

    /// Fails fast when no session bus is configured, so GLib never tries to autolaunch one.
    static func checkSessionBus() throws(SecureStoreError) {
        if let address = getenv("DBUS_SESSION_BUS_ADDRESS").map({ String(cString: $0) }), !address.isEmpty {
            guard !address.contains("autolaunch:") else {
                throw SecureStoreError(.serviceUnavailable, "DBUS_SESSION_BUS_ADDRESS asks for an autolaunched bus; SecureStore never starts a bus.")
            }
            return
        }
        if let runtimeDirectory = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtimeDirectory.isEmpty {
            var status = stat()
            if stat(runtimeDirectory + "/bus", &status) == 0, status.st_mode & S_IFMT == S_IFSOCK { return }
        }
        throw SecureStoreError(.serviceUnavailable, "No D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist.")
    }

    static func timeoutError(_ timeout: Duration) -> SecureStoreError {
        SecureStoreError(.timeout, "The Secret Service did not answer within \(timeout).")
    }

    /// A failure to open the connection: whatever its GLib code, the service is unavailable
    /// (unless the call was cancelled meanwhile).
    private struct ConnectionFailure: Error {
        var error: GLibError
    }

    /// The one place where GLib's and libsecret's errors become SecureStore's.
    static func secureStoreError(from error: any Error) -> any Error {
        let connecting = error is ConnectionFailure
        guard let error = (error as? ConnectionFailure)?.error ?? error as? GLibError else { return error }
        // A step cancelled by its watchdog is already a timeout error (see onWorker).
        if error.is(GLibErrors.io, GLibErrors.cancelled) { return CancellationError() }
        let details = (domain: error.domainName, code: Int(error.code))
        if GLibErrors.isTimeout(error) {
            return SecureStoreError(.timeout, "The Secret Service did not answer: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if error.remoteName == GLibError.unencryptedSessionName {
            return SecureStoreError(.keyChain, error.message, backendDomain: details.domain, backendCode: details.code)
        }
        if connecting {
            return SecureStoreError(.serviceUnavailable, "Could not connect to the Secret Service: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if GLibErrors.isUnavailable(error) {
            return SecureStoreError(.serviceUnavailable, "The Secret Service is not available: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if error.is(GLibErrors.secret, GLibErrors.isLocked) {
            return SecureStoreError(.interactionNotAllowed, "The keyring is locked: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        return SecureStoreError(.keyChain, "The Secret Service failed: \(error.message)",
                                backendDomain: details.domain, backendCode: details.code)
    }
}

/// The steps one backend call is made of, on a worker thread with its connection and
/// cancellable. Throws `GLibError` or `SecureStoreError`.
private struct Call {
    let connection: SecretServiceConnection
    let cancellation: GCancellation
    let userInteraction: UserInteraction

    struct Found {
        var unlocked: [String]
        var locked: [String]
        var all: [String] { unlocked + locked }
    }

    func search(_ attributes: [String: String]) throws -> Found {
        if ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider),
           try connection.isLocked(collectionAt: Self.defaultCollection, cancellation: cancellation) {
            try unlockDefaultCollection()   // or fail at once when interaction is not allowed
        }
        let found = try connection.searchItems(attributes, cancellation: cancellation)
        return Found(unlocked: found.unlocked, locked: found.locked)
    }

    /// On a provider whose writes need it, checks that the item at `path` holds `value` (see
    /// `ProviderQuirks.writesNeedReadBack`); a mismatch throws, so the write runs again on a new
    /// connection. An item deleted since by another client passes: the write itself succeeded.
    func checkStored(_ value: [UInt8], at path: String) throws {
        guard ProviderQuirks.writesNeedReadBack(connection.provider) else { return }
        guard let stored = try secret(ofItemAt: path) else { return }
        defer { stored.zero() }
        if !stored.equals(value) { throw GLibErrors.garbledSecret }
    }

    /// The value at `path`, or `nil` when the item went away since it was found.
    func secret(ofItemAt path: String) throws -> SecretBytes? {
        do {
            return try connection.secret(ofItemAt: path, cancellation: cancellation)
        } catch where GLibErrors.isNoSuchObject(error) {
            return nil
        }
    }

    /// Replaces the secret of the item at `path` when it carries exactly `attributes` among its
    /// own, and returns `path`; `nil` when it carries others or is gone.
    func replaceSecretIfSameItem(_ path: String, _ attributes: [String: String], _ value: [UInt8], _ contentType: String) throws -> String? {
        do {
            guard try hasOurAttributes(path, attributes) else { return nil }
            try connection.setSecret(ofItemAt: path, value: value, contentType: contentType, cancellation: cancellation)
            return path
        } catch let error as GLibError where GLibErrors.isNoSuchObject(error) {
            return nil   // deleted since the search
        }
    }

    /// Whether the item at `path` carries exactly `attributes` among its own. Providers may add
    /// attributes of their own (KeePassXC adds Title, UserName, URL, Notes, Path, Uuid), so only
    /// ours are compared.
    func hasOurAttributes(_ path: String, _ attributes: [String: String]) throws -> Bool {
        let stored = try connection.attributes(ofItemAt: path, cancellation: cancellation)
        return SecretServiceBackend.Attribute.all.allSatisfy { name in
            stored[name].map(ExactName.init) == attributes[name].map(ExactName.init)
        }
    }

    /// What the item at `path` holds now, for putting it back (see `WriteRecovery`); no value
    /// when there is no item.
    func previous(of path: String?) throws -> WriteRecovery.Previous {
        guard let path, let value = try secret(ofItemAt: path) else { return WriteRecovery.Previous(value: nil, accessible: .whenUnlocked) }
        let stored = try connection.attributes(ofItemAt: path, cancellation: cancellation)
        return WriteRecovery.Previous(
            value: value.take(), accessible: stored[SecretServiceBackend.Attribute.accessible].flatMap(KeychainAccessible.init(expoName:)) ?? .whenUnlocked)
    }

    /// Deletes every item matching `attributes`, unlocking first when that is allowed; a miss in
    /// a locked keyring is not taken as "nothing to delete" (see `unlockIfMissMayBeHidden`).
    func deleteItems(matching attributes: [String: String]) throws {
        var found = try search(attributes)
        if found.all.isEmpty, try unlockIfMissMayBeHidden() {
            found = try search(attributes)
        }
        try ensureUnlocked(found.locked)
        for path in found.all {
            try deleteItem(at: path)
        }
    }

    /// Deletes the item at `path`; one that is already gone counts as deleted.
    func deleteItem(at path: String) throws {
        do {
            try connection.deleteItem(at: path, cancellation: cancellation)
        } catch where GLibErrors.isNoSuchObject(error) {
        }
    }

    /// The default collection, by its alias path, which the service accepts in place of its own.
    static let defaultCollection = SecretServiceBackend.defaultCollectionPath

    /// Creates or replaces an item in the default collection. A locked collection fails with
    /// `SECRET_ERROR_IS_LOCKED`, which the caller handles (see `setItem`).
    func createItem(label: String, attributes: [String: String], value: [UInt8], contentType: String) throws -> String {
        try connection.createItem(inCollection: Self.defaultCollection, label: label, attributes: attributes,
                                  value: value, contentType: contentType,
                                  replace: ProviderQuirks.createMayReplace(connection.provider), cancellation: cancellation)
    }

    /// Whether a search that found nothing should be repeated after an unlock. A locked
    /// default collection makes a miss meaningless: a keyring that has not been unlocked since
    /// the daemon started hides its items even from searches. So unlock it (if user interaction
    /// is allowed) and say "search again", or throw; a miss in an unlocked collection is real.
    func unlockIfMissMayBeHidden() throws -> Bool {
        guard try connection.isLocked(collectionAt: Self.defaultCollection, cancellation: cancellation) else { return false }
        try unlockDefaultCollection()
        return true
    }

    /// A miss in a locked keyring, for calls that never show the unlock dialog.
    static var hiddenByLock: SecureStoreError {
        SecureStoreError(.interactionNotAllowed, "The keyring is locked, and until it is unlocked its items cannot be found or listed.")
    }

    /// Unlocks the default collection (the service wants its real path, not the alias).
    func unlockDefaultCollection() throws {
        try ensureUnlocked([try defaultCollectionPath()])
    }

    /// Creates the default collection when there is none, through the service's own dialog
    /// (it asks for the new keyring's password), or throws when that is not allowed or the user
    /// dismisses it. Returns `false` when a default collection exists.
    func createDefaultCollectionIfMissing() throws -> Bool {
        guard try connection.collectionPath(forAlias: "default", cancellation: cancellation) == nil else { return false }
        guard userInteraction == .allowed else {
            throw SecureStoreError(.interactionNotAllowed, "The Secret Service has no default keyring (no login keyring yet); creating one asks the user for its password, and user interaction is not allowed.")
        }
        do {
            try connection.createCollection(label: "Login", alias: "default", cancellation: cancellation)
        } catch {
            // Cancelled, timed out or gone: the usual mapping. Anything else is the dialog's answer.
            if GCancellation.isCancellation(error) || GLibErrors.isTimeout(error) || GLibErrors.isUnavailable(error) { throw error }
            throw SecureStoreError(.authenticationCanceled, "The Secret Service has no default keyring, and the dialog that creates one was dismissed or could not be shown: \(error.message)",
                                   backendDomain: error.domainName, backendCode: Int(error.code))
        }
        return true
    }

    func defaultCollectionPath() throws -> String {
        guard let path = try connection.collectionPath(forAlias: "default", cancellation: cancellation) else {
            throw SecureStoreError(.keyChain, "The Secret Service has no default collection (no login keyring).")
        }
        return path
    }

    /// One unlock dialog at a time for the whole process, its answer shared by every call that
    /// waited for it.
    private static let sharedUnlock = SharedUnlock()

    /// Unlocks `paths` through the service's own prompt, or fails when that is not allowed or
    /// the user dismisses it.
    func ensureUnlocked(_ paths: [String]) throws {
        guard !paths.isEmpty else { return }
        guard userInteraction == .allowed else {
            throw SecureStoreError(.interactionNotAllowed, "The keyring is locked and user interaction is not allowed.")
        }
        try Self.sharedUnlock.run(cancellation: cancellation) {
            let unlocked = try connection.unlock(paths, cancellation: cancellation)
            guard Set(paths).isSubset(of: unlocked) else {
                throw SecureStoreError(.authenticationCanceled, "The keyring stayed locked: the unlock dialog was dismissed or could not be shown.")
            }
        }
    }
}

/// Resumes a continuation exactly once, whoever gets there first (the work or the timer).
private final class ResumeOnce<T: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<T, any Error>?)
        /// Resumed before the continuation arrived: it is resumed on arrival.
        case early(Result<T, any Error>)
        case done
    }
    private let state = Mutex(State.waiting(nil))

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            switch state {
            case .early(let result):
                state = .done
                return result
            case .waiting, .done:
                state = .waiting(continuation)
                return nil
            }
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            switch state {
            case .waiting(let continuation?):
                state = .done
                return continuation
            case .waiting(nil):
                state = .early(result)
                return nil
            case .early, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}

#endif
