#if canImport(CLibSecret)
import Logging

extension SecureStore {
    /// A store on the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC) or, inside
    /// a Flatpak or Snap sandbox, on the app's own keyring there, keeping `applicationID`'s items
    /// apart from other applications' — a namespace, not a security boundary (see
    /// ``SecretServiceBackend``, ``SandboxKeyringBackend`` and ``FileKeyringBackend``).
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - userInteraction: Whether a locked keyring may be unlocked through the desktop's
    ///     password dialog (`.allowed`, the default) or fails at once (`.notAllowed`). The
    ///     sandbox keyring and keyring files are never locked.
    ///   - timeout: How long any one call may take, an unlock dialog included.
    ///   - keyring: Where items live; ``KeyringLocation/automatic`` by default.
    ///   - logger: Where the store and its backend log: each call at `trace` level, and what the
    ///     backend decides on its own (the provider, a reconnect, a retry, an undone write, a
    ///     wait, the unlock dialog) at `debug` level. Never a value. By default nowhere.
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an application ID that is empty or
    ///   has a control character, a timeout that is not positive, a keyring file's path that is
    ///   not absolute, or (with ``KeyringLocation/automatic``) a keyring file that the
    ///   environment names incompletely. Nothing is contacted yet.
    public init(applicationID: String, userInteraction: UserInteraction = .allowed, timeout: Duration = .seconds(30),
                keyring: KeyringLocation = .automatic, logger: Logger? = nil) throws {
        let backend: any SecureStoreBackend
        switch keyring {
        case .automatic where SandboxKeyringBackend.isSandboxed, .sandboxKeyring:
            backend = try SandboxKeyringBackend(applicationID: applicationID, timeout: timeout, logger: logger)
        case .automatic:
            let secretService = try SecretServiceBackend(applicationID: applicationID, userInteraction: userInteraction, timeout: timeout, logger: logger)
            let fallback = try FallbackKeyringFile.fromEnvironment().map { file in
                try FileKeyringBackend(applicationID: applicationID, path: file.path, password: file.password, timeout: timeout, logger: logger)
            }
            backend = AutomaticBackend(secretService: secretService, fallback: fallback)
        case .secretService:
            backend = try SecretServiceBackend(applicationID: applicationID, userInteraction: userInteraction, timeout: timeout, logger: logger)
        case .file(let path, let password):
            backend = try FileKeyringBackend(applicationID: applicationID, path: path, password: password, timeout: timeout, logger: logger)
        }
        self.init(backend: backend, logger: logger)
    }
}
#endif
