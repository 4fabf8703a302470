#if canImport(CLibSecret)
import Dispatch
import Glibc
import Logging
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
    /// Where the backend logs what it decides on its own, at `debug` level (the provider it
    /// found, a new connection, a retry, a write read back wrong and undone, a wait for a key's
    /// lock, the unlock dialog) and `trace` level (how a read was answered). Never a value.
    public let logger: Logger

    /// A backend for `applicationID`'s items.
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - userInteraction: Whether a locked keyring may be unlocked through the desktop's dialog.
    ///   - timeout: How long a call may wait for any one answer (see ``timeout``).
    ///   - logger: Where decisions are logged (see ``logger``); by default nowhere.
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an empty application ID, one
    ///   with a control character, or a timeout that is not positive. Nothing is contacted yet.
    public init(applicationID: String, userInteraction: UserInteraction = .allowed, timeout: Duration = .seconds(30),
                logger: Logger? = nil) throws {
        try Validation.checkApplicationID(applicationID)
        guard timeout > .zero else { throw SecureStoreError.invalidOptions("The timeout must be positive.") }
        self.applicationID = applicationID
        self.userInteraction = userInteraction
        self.timeout = timeout
        self.logger = logger ?? .disabled
    }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool {
        // A non-blocking call: the answer never waits behind other calls' blocking work.
        let timeout = min(timeout, .seconds(3))
        return (try? await withConnection(timeout: timeout) { connection in
            try await connection.collectionPath(forAlias: SecretServiceConnection.defaultAlias, timeout: timeout) != nil
        }) ?? false
    }

    // MARK: - Attributes and per-key locks

    /// The attributes that select items: the key's item(s), or with `key: nil` the service's.
    /// `isSynchronizable: nil` follows `options.synchronizable` (`.any` leaves it out).
    func attributes(key: String?, options: SecureStoreOptions, isSynchronizable: Bool?) -> [String: String] {
        ItemSchema.attributes(applicationID: applicationID, key: key, options: options, isSynchronizable: isSynchronizable)
    }

    /// The attributes a new item of `key` carries: those that select it, and its accessibility.
    func itemAttributes(key: String, options: SecureStoreOptions, isSynchronizable: Bool) -> [String: String] {
        var attributes = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
        attributes[Attribute.accessible] = options.keychainAccessible.expoName
        return attributes
    }

    /// Runs `body` holding the key's lock in this process (see `KeyedLock`): exclusively for a
    /// write, shared for a read that must not see a write half done.
    func withKeyLock<T: Sendable>(_ key: String, _ options: SecureStoreOptions, _ mode: KeyedLock<ExactName>.Mode = .exclusive,
                                  _ body: @Sendable () async throws -> T) async throws -> T {
        let logger = self.logger
        return try await Self.itemLocks.withLock(
            ItemSchema.lockName(applicationID: applicationID, key: key, options: options), mode, timeout: timeout,
            waited: { waited in
                logger.debug("Waited for another call on the same key in this process", metadata: [
                    LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.durationMilliseconds: waited.loggedMilliseconds,
                ])
            }, body)
    }

    /// The keys that calls of this process hold (internal for tests, which hold one to make a call wait).
    static let itemLocks = KeyedLock<ExactName>()
}
#endif
