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
        let contentType = ItemSchema.contentType(of: value, kind: kind)
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
            } catch let error as GLibError where error.is(ServiceErrors.secret, ServiceErrors.isLocked) {
                try call.unlockDefaultCollection()
                try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
            } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
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

    /// One attempt at `setItem`: find the key's items, then create or replace.
    private func write(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                       _ recovery: WriteRecovery?, _ call: BlockingCall) throws {
        let label = ItemSchema.label(applicationID: applicationID, key: key, options: options)
        let existing = try options.synchronizable.matchingStates.map { isSynchronizable in
            (isSynchronizable, try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable)))
        }
        try checkSessionBeforeWriting(existing.flatMap { $0.1.unlocked }, options, call)
        for (isSynchronizable, found) in ItemSchema.writeTargets(existing, options, isEmpty: { $0.all.isEmpty }) {
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
            let path: String
            do {
                path = try found.all.first.flatMap { replacesSecrets ? try call.replaceSecretIfSameItem($0, itemAttributes, value, contentType) : nil }
                    ?? call.createItem(label: label, attributes: itemAttributes, value: value, contentType: contentType)
            } catch let error as GLibError where ProviderQuirks.isKWalletsLostSession(error) {
                try removeItemsMadeWithoutSecret(itemAttributes, besides: found.all, recovery, call)
                throw error
            }
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
        // Taken here, on the caller's task: see `SecretBytes`.
        try await withConnection { connection in
            try await self.excludingUnverifiedWrites(of: key, options: options, connection) {
                if options.synchronizable != .any,
                   case .answer(let value) = try await self.quickGetItem(forKey: key, options: options, connection) {
                    return value
                }
                return try await self.onConnectionWorker(connection) { try self.fullGetItem(forKey: key, options: options, $0) }
            }
        }?.take()
    }

    /// Runs a read of `key` while no write of it in this process runs, where a write's bytes are
    /// not known to be right until it has read them back (KWallet, see
    /// `ProviderQuirks.writesNeedReadBack`): between its store and its read-back the item may
    /// hold bytes nobody wrote. Elsewhere a write is never half done, and reads wait for nothing.
    private func excludingUnverifiedWrites<T: Sendable>(of key: String, options: SecureStoreOptions, _ connection: SecretServiceConnection,
                                                        _ read: @Sendable () async throws -> T) async throws -> T {
        guard ProviderQuirks.writesNeedReadBack(connection.provider) else { return try await read() }
        return try await Self.itemLocks.withLock(lockName(key, options), .shared, read)
    }

    /// `getItem` with libsecret's blocking calls: locked items, unlocking, and items replaced
    /// while being read.
    private func fullGetItem(forKey key: String, options: SecureStoreOptions, _ call: BlockingCall) throws -> SecretBytes? {
        repeat {
            for isSynchronizable in options.synchronizable.matchingStates {
                var found = try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable))
                // An overwrite that changes the accessibility replaces the item: the one
                // found may be gone by now, and its successor is then found by searching again.
                for _ in 0..<3 where !found.unlocked.isEmpty {
                    for path in found.unlocked {
                        if let value = try call.secret(ofItemAt: path) { return value }
                    }
                    found = try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable))
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
        if lockedReadFirst, try await connection.isDefaultCollectionLocked(timeout: timeout) {
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
            return try await connection.isDefaultCollectionLocked(timeout: timeout) ? .undecided : .answer(nil)
        }
        guard found.locked.isEmpty else { return .undecided }
        let secrets: [String: SecretBytes]
        do {
            secrets = try await connection.secrets(ofItemsAt: found.unlocked, timeout: timeout)
        } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
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
        } catch let error as GLibError where !ServiceErrors.isTimeout(error) && !ServiceErrors.needsNewConnection(error) {
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
    func itemPaths(key: String?, options: SecureStoreOptions, _ connection: SecretServiceConnection) async throws -> [String] {
        if ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider),
           try await connection.isDefaultCollectionLocked(timeout: timeout) {
            throw BlockingCall.hiddenByLock
        }
        let found = try await connection.searchItems(attributes(key: key, options: options, isSynchronizable: nil), timeout: timeout)
        let paths = found.unlocked + found.locked
        if paths.isEmpty, try await connection.isDefaultCollectionLocked(timeout: timeout) {
            throw BlockingCall.hiddenByLock
        }
        return paths
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try await perform { call in
            try call.deleteItems(matching: self.attributes(key: nil, options: options, isSynchronizable: nil))
        }
    }

    // MARK: - Attributes

    /// The attributes that select items: the key's item(s), or with `key: nil` the service's.
    /// `isSynchronizable: nil` follows `options.synchronizable` (`.any` leaves it out).
    func attributes(key: String?, options: SecureStoreOptions, isSynchronizable: Bool?) -> [String: String] {
        ItemSchema.attributes(applicationID: applicationID, key: key, options: options, isSynchronizable: isSynchronizable)
    }

    private func lockName(_ key: String, _ options: SecureStoreOptions) -> ExactName {
        ItemSchema.lockName(applicationID: applicationID, key: key, options: options)
    }

    private static let itemLocks = KeyedLock<ExactName>()

    /// The default collection, where items are written, by its alias path.
    static let defaultCollectionPath = "/org/freedesktop/secrets/aliases/default"
}
#endif
