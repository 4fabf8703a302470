#if canImport(CLibSecret)
import Logging
import Synchronization

extension SecretServiceBackend {
    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        // Taken here, on the caller's task: see `SecretBytes`.
        try await withConnection { connection in
            try await self.excludingUnverifiedWrites(of: key, options: options, connection) {
                if options.synchronizable != .any,
                   case .answer(let value) = try await self.quickGetItem(forKey: key, options: options, connection) {
                    return value
                }
                self.logger.trace("Reading with blocking calls (a locked keyring or item, several items, or synchronizable: any)",
                                  metadata: [LogKey.key: "\(key)", LogKey.service: "\(options.service)"])
                return try await self.withBlockingCall(on: connection) { try self.fullGetItem(forKey: key, options: options, $0) }
            }
        }?.take()
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

    /// Runs a read of `key` while no write of it in this process runs, where a write's bytes are
    /// not known to be right until it has read them back (KWallet, see
    /// `ProviderQuirks.writesNeedReadBack`): between its store and its read-back the item may
    /// hold bytes nobody wrote. Elsewhere a write is never half done, and reads wait for nothing.
    private func excludingUnverifiedWrites<T: Sendable>(of key: String, options: SecureStoreOptions, _ connection: SecretServiceConnection,
                                                        _ read: @Sendable () async throws -> T) async throws -> T {
        guard ProviderQuirks.writesNeedReadBack(connection.provider) else { return try await read() }
        return try await withKeyLock(key, options, .shared, read)
    }

    /// `getItem` with libsecret's blocking calls, for locked items, unlocking, and items replaced
    /// while being read: searches each state, reads what it finds (an item replaced meanwhile is
    /// searched for again, three times at most), unlocks a locked item, and unlocks a locked
    /// keyring that may hide the key once. `nil` only for a real miss: items that were found
    /// but could not be read, or a keyring still locked after its unlock, throw.
    private func fullGetItem(forKey key: String, options: SecureStoreOptions, _ call: BlockingCall) throws -> SecretBytes? {
        var unlockedOnce = false
        // `.any` selects every item of the key, one without a `synchronizable` attribute too
        // (another program's), as `containsItem` and `allKeys` do: searched for last.
        let states = options.synchronizable.matchingStates.map(Optional.some) + (options.synchronizable == .any ? [nil] : [])
        while true {
            for isSynchronizable in states {
                var found = try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable))
                // An overwrite that changes the accessibility replaces the item: the one
                // found may be gone by now, and its successor is then found by searching again.
                // Several items under the key: only the newest is its value (see newestItem).
                var tied = false
                for _ in 0..<3 where !found.unlocked.isEmpty {
                    let newest = try call.newestItem(of: found.unlocked)
                    tied = newest == nil && found.unlocked.count > 1
                    if let newest, let value = try call.secret(ofItemAt: newest) { return value }
                    found = try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable))
                }
                guard !tied else {
                    throw SecureStoreError(.keyChain, "Several items hold the key '\(key)', written in the same second (an overwrite cut short, or one under way), so none is known to be its value; write the key again to keep one.")
                }
                guard found.unlocked.isEmpty else {
                    throw SecureStoreError(.keyChain, "The item under '\(key)' was replaced each time it was read (another program keeps rewriting it); try again.")
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
            // A miss in a locked keyring may be an item it hides: unlock it and search once more.
            guard try call.missMayBeHiddenByLock() else { return nil }
            guard !unlockedOnce else {
                throw SecureStoreError(.keyChain, "The keyring was still locked after it was unlocked (locked again meanwhile, or the service does not unlock it); try again.")
            }
            try call.unlockDefaultCollection()
            unlockedOnce = true
        }
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
        let selection = attributes(key: key, options: options, isSynchronizable: nil)
        // Where the provider would hold the search while locked, the lock state comes first
        // (remembered, or read with the search), which also settles a miss (`missMayBeHiddenByLock`).
        let lockedReadFirst = ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider)
        let knownLock = lockedReadFirst ? connection.lockState.recall() : nil
        if knownLock == true { return .undecided }
        if connection.remembersItemPaths, !lockedReadFirst || knownLock == false,
           let remembered = connection.itemPaths.recall(selection), remembered.paths.count == 1,
           let value = try await readRemembered(remembered, selection, connection) {
            logger.trace("Read from the item's remembered path", metadata: [LogKey.key: "\(key)", LogKey.service: "\(options.service)"])
            return .answer(value)
        }
        let generation = SecretServiceSignals.currentGeneration
        guard let found = try await connection.searchItemsUnlessLocked(selection, timeout: timeout) else { return .undecided }
        if found.unlocked.isEmpty && found.locked.isEmpty {
            return try await connection.missMayBeHiddenByLock(timeout: timeout) ? .undecided : .answer(nil)
        }
        // Locked items, or several items to choose between (see BlockingCall.newestItem).
        guard found.locked.isEmpty, found.unlocked.count == 1 else { return .undecided }
        let secrets: [String: SecretBytes]
        do {
            secrets = try await connection.secrets(ofItemsAt: found.unlocked, timeout: timeout)
        } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
            return .undecided   // KWallet fails the whole call when one item went away meanwhile
        } catch let error as GLibError where error.is(ServiceErrors.secret, ServiceErrors.isLocked) {
            return .undecided   // an item the service holds back (see searchItemsUnlessLocked)
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

    /// For a process that makes one call and exits (the `securestore` command): its connection
    /// remembers no item paths or lock states, which only later calls could use, and so asks
    /// the bus for no change signals but the service's changes of owner. Streams of changes
    /// still ask for theirs. Call it before the first call.
    @_spi(SecureStoreInternal)
    public static func rememberNothingBetweenCalls() {
        SecretServiceConnection.remembersBetweenCalls.store(false, ordering: .relaxed)
    }

    private static let rememberedReadCount = Atomic(0)

    /// How many `getItem` calls in this process were answered from a remembered item path,
    /// in one round trip: for tests that must know the path was taken.
    @_spi(SecureStoreInternal)
    public static var rememberedReads: Int { rememberedReadCount.load(ordering: .relaxed) }

    /// How many times in this process the default collection's lock state was recalled
    /// rather than read (see `LockStateMemory`): for tests that must know the memory was used.
    @_spi(SecureStoreInternal)
    public static var recalledLockStates: Int { LockStateMemory.recalls.load(ordering: .relaxed) }

    /// The secret at a remembered path, read with one `GetSecrets`, if no change signal came
    /// before its reply (see `ItemPathMemory`) and, where the provider announces attribute edits
    /// late (`ProviderQuirks.rememberedReadsCheckAttributes`), the item's attributes, read in the
    /// same round trip, still select it; `nil` sends the caller to the search. Only timeouts,
    /// cancellation and a lost service are thrown: everything else (an item gone, or locked,
    /// meanwhile) is a reason to search.
    private func readRemembered(_ remembered: ItemPathMemory.Entry, _ selection: [String: String],
                                _ connection: SecretServiceConnection) async throws -> SecretBytes? {
        do {
            let secrets: [String: SecretBytes]
            var stillSelected = true
            if ProviderQuirks.rememberedReadsCheckAttributes(connection.provider) {
                async let attributes = connection.attributes(ofItemsAt: remembered.paths, timeout: timeout)
                secrets = try await connection.secrets(ofItemsAt: remembered.paths, timeout: timeout)
                stillSelected = Self.carries(selection, try await attributes[remembered.paths[0]])
            } else {
                secrets = try await connection.secrets(ofItemsAt: remembered.paths, timeout: timeout)
            }
            if let value = Self.firstSecret(of: remembered.paths, in: secrets) {
                guard SecretServiceSignals.currentGeneration == remembered.generation, stillSelected else {
                    value.zero()
                    connection.itemPaths.forget(selection)
                    return nil
                }
                Self.rememberedReadCount.add(1, ordering: .relaxed)
                return value
            }
        } catch let error as GLibError where !ServiceErrors.isTimeout(error) && !ServiceErrors.needsNewConnection(error) {
            // Gone or locked meanwhile: search.
        }
        // Perhaps a lock not announced yet: the search reads `Locked` rather than trust it.
        connection.lockState.forget()
        connection.itemPaths.forget(selection)
        return nil
    }

    /// Whether an item's `attributes` hold every one of `selection`, byte for byte.
    static func carries(_ selection: [String: String], _ attributes: [String: String]?) -> Bool {
        guard let attributes else { return false }
        return selection.allSatisfy { name, value in attributes[name]?.isExactly(value) ?? false }
    }

    /// The paths of the key's items (or with `key: nil`, the service's), locked or not, without
    /// a dialog: a locked keyring lists its items' attributes. But one never unlocked since its
    /// daemon started hides them even from searches, so a miss there is an error, not "none".
    func itemPaths(key: String?, options: SecureStoreOptions, _ connection: SecretServiceConnection) async throws -> [String] {
        let selection = attributes(key: key, options: options, isSynchronizable: nil)
        guard let found = try await connection.searchItemsUnlessLocked(selection, timeout: timeout) else { throw BlockingCall.hiddenByLock }
        let paths = found.unlocked + found.locked
        if paths.isEmpty, try await connection.missMayBeHiddenByLock(timeout: timeout) {
            throw BlockingCall.hiddenByLock
        }
        return paths
    }
}
#endif
