#if canImport(CLibSecret)
import Logging
import CLibSecret
import Glibc

/// The backend for apps in a Flatpak or Snap sandbox: the app's own keyring, an encrypted file
/// inside the sandbox, `$XDG_DATA_HOME/keyrings/default.keyring`
/// (`~/.var/app/APP_ID/data/keyrings/default.keyring` in a Flatpak), whose key the desktop's
/// keyring hands over through the Secret portal (`org.freedesktop.portal.Secret`). The app
/// needs no permission beyond the portals: no `--talk-name=org.freedesktop.secrets`.
///
/// The file is the one libsecret keeps there, in its format, so items libsecret wrote read
/// back unchanged and libsecret reads these; the keyring itself is ``FileKeyringBackend``'s
/// (several processes share it safely, and ``changes(options:)`` reports their writes).
/// Every rule of the backend contract holds. What differs:
/// - Nothing is ever locked and no unlock dialog appears for the keyring itself (the portal
///   supplies the key; the desktop's keyring may ask to be unlocked before it hands it over),
///   so `userInteraction` changes nothing.
/// - Only this app sees its items; the desktop's keyring and other apps do not (not even in
///   Seahorse), and this app does not see theirs.
/// - ``isAvailable()`` is `true` when the portal hands over the key and the file can be read.
/// - A sandbox without the Secret portal (or one that refuses) fails every call with
///   ``SecureStoreError/Code/serviceUnavailable``, and never falls back to another store.
/// - Should the portal's key ever change (the desktop's keyring lost the app's secret), the
///   items sealed with the former key can no longer be read: they read as missing, new writes
///   work, and they stay in the file until removed (see docs/sandbox.md).
public final class SandboxKeyringBackend: SecureStoreBackend {
    public let applicationID: String
    /// How long one call may wait for the portal and the keyring file.
    public let timeout: Duration
    /// The keyring file, with the portal's key: for ``FileKeyringBackend/inspect()`` and
    /// ``FileKeyringBackend/removeItemsThatDoNotVerify()``.
    public let fileKeyring: FileKeyringBackend

    /// Where the sandbox keyring logs (its ``FileKeyringBackend/logger``).
    public var logger: Logger { fileKeyring.logger }

    /// A backend for `applicationID`'s items in this sandbox's keyring.
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - timeout: How long a call may wait for the keyring file and the portal.
    ///   - logger: Where the keyring logs (see ``FileKeyringBackend/logger``); by default nowhere.
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an application ID that is empty or
    ///   has a control character, or a timeout that is not positive. Nothing is contacted yet.
    public init(applicationID: String, timeout: Duration = .seconds(30), logger: Logger? = nil) throws {
        try Validation.checkApplicationID(applicationID)
        guard timeout > .zero else { throw SecureStoreError.invalidOptions("The timeout must be positive.") }
        self.applicationID = applicationID
        self.timeout = timeout
        fileKeyring = try FileKeyringBackend(applicationID: applicationID, path: Self.keyringPath, password: .secretPortal,
                                             timeout: timeout, logger: logger, checked: ())
    }

    /// libsecret's place for the sandbox keyring: `keyrings/default.keyring` in the user data
    /// folder (`$XDG_DATA_HOME`, else `~/.local/share`), as GLib finds it.
    static var keyringPath: String { String(cString: g_get_user_data_dir()) + "/keyrings/default.keyring" }

    /// Whether this process runs in a Flatpak or Snap sandbox (libsecret's rule: `/.flatpak-info`
    /// exists, or `SNAP_NAME` is set); ``SecureStore/init(applicationID:userInteraction:timeout:keyring:logger:)``
    /// then picks this backend.
    public static var isSandboxed: Bool {
        access("/.flatpak-info", F_OK) == 0 || getenv("SNAP_NAME") != nil
    }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool {
        guard Self.isSandboxed else { return false }
        return await fileKeyring.isAvailable()
    }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        try checkSandboxed()
        try await fileKeyring.setItem(value, kind: kind, forKey: key, options: options)
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        try checkSandboxed()
        return try await fileKeyring.getItem(forKey: key, options: options)
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try checkSandboxed()
        try await fileKeyring.deleteItem(forKey: key, options: options)
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try checkSandboxed()
        return try await fileKeyring.containsItem(forKey: key, options: options)
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try checkSandboxed()
        return try await fileKeyring.allKeys(options: options)
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try checkSandboxed()
        try await fileKeyring.deleteAll(options: options)
    }

    /// Every process's writes to this app's items in the sandbox (see ``FileKeyringBackend/changes(options:)``).
    public func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        try checkSandboxed()
        return try await fileKeyring.changes(options: options)
    }

    // MARK: - Internal, for tests and tools

    /// What the keyring records about this application's items under (service, key), values
    /// left out; one entry per item.
    func records(service: String, key: String, accessGroup: String? = nil) async throws -> [ItemRecord] {
        try checkSandboxed()
        return try await fileKeyring.records(service: service, key: key, accessGroup: accessGroup)
    }

    /// Deletes every item of this application (or with `accessGroup`, of that group).
    func deleteEverything(accessGroup: String? = nil) async throws {
        try checkSandboxed()
        try await fileKeyring.deleteEverything(accessGroup: accessGroup)
    }

    /// An item's label: the Secret Service's (`application / service / key`) with the
    /// accessibility after it, `... / key [WHEN_UNLOCKED]`. The file keyring keeps the
    /// accessibility there rather than in an attribute, as libsecret's file backend did for
    /// this package: an item is then found by the same attributes whatever its accessibility.
    /// Nothing else reads these labels: the keyring is the app's alone.
    static func label(applicationID: String, key: String, options: SecureStoreOptions) -> String {
        "\(ItemSchema.label(applicationID: applicationID, key: key, options: options)) [\(options.keychainAccessible.expoName)]"
    }

    /// The accessibility `label` wrote. Keys have no spaces, so the last `[` is the label's own.
    static func accessibility(inLabel label: String) -> KeychainAccessible? {
        guard label.hasSuffix("]"), let open = label.lastIndex(of: "[") else { return nil }
        return KeychainAccessible(expoName: String(label[label.index(after: open)..<label.index(before: label.endIndex)]))
    }

    /// The sandbox keyring's key exists only in a sandbox: the portal hands it to sandboxed
    /// apps alone, and outside one the desktop's keyring is the place for items.
    private func checkSandboxed() throws {
        guard Self.isSandboxed else {
            throw SecureStoreError(.serviceUnavailable, "The sandbox keyring exists only inside a Flatpak or Snap sandbox (no /.flatpak-info, no SNAP_NAME); use the Secret Service outside one.")
        }
    }
}
#endif
