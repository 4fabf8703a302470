#if canImport(CLibSecret)
extension SecureStore {
    /// A store on the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC), keeping
    /// `applicationID`'s items apart from other applications' — a namespace, not a security
    /// boundary (see ``SecretServiceBackend``).
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - userInteraction: Whether a locked keyring may be unlocked through the desktop's
    ///     password dialog (`.allowed`, the default) or fails at once (`.notAllowed`).
    ///   - timeout: How long any one call may take, an unlock dialog included.
    public init(applicationID: String, userInteraction: UserInteraction = .allowed, timeout: Duration = .seconds(30)) throws {
        self.init(backend: try SecretServiceBackend(applicationID: applicationID, userInteraction: userInteraction, timeout: timeout))
    }
}
#endif
