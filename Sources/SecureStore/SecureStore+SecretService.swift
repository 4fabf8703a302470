#if canImport(CLibSecret)
/// Where ``SecureStore/init(applicationID:userInteraction:timeout:keyring:)`` keeps items.
public enum KeyringLocation: Sendable, Hashable {
    /// The sandbox keyring inside a Flatpak or Snap sandbox (libsecret's rule: `/.flatpak-info`
    /// exists, or `SNAP_NAME` is set), the desktop's Secret Service everywhere else. This is
    /// what libsecret's own password API does, so items land where other libsecret apps' do.
    case automatic
    /// The desktop's Secret Service (``SecretServiceBackend``), also from a sandbox: for apps
    /// whose sandbox may talk to `org.freedesktop.secrets`, and for their migration.
    case secretService
    /// The app's own keyring in its sandbox (``SandboxKeyringBackend``); outside a sandbox
    /// every call fails with ``SecureStoreError/Code/serviceUnavailable``.
    case sandboxKeyring
}

extension SecureStore {
    /// A store on the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC) or, inside
    /// a Flatpak or Snap sandbox, on the app's own keyring there, keeping `applicationID`'s items
    /// apart from other applications' — a namespace, not a security boundary (see
    /// ``SecretServiceBackend`` and ``SandboxKeyringBackend``).
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - userInteraction: Whether a locked keyring may be unlocked through the desktop's
    ///     password dialog (`.allowed`, the default) or fails at once (`.notAllowed`). The
    ///     sandbox keyring is never locked.
    ///   - timeout: How long any one call may take, an unlock dialog included.
    ///   - keyring: Where items live; ``KeyringLocation/automatic`` by default.
    public init(applicationID: String, userInteraction: UserInteraction = .allowed, timeout: Duration = .seconds(30),
                keyring: KeyringLocation = .automatic) throws {
        let inSandbox = keyring == .sandboxKeyring || (keyring == .automatic && SandboxKeyringBackend.isSandboxed)
        if inSandbox {
            self.init(backend: try SandboxKeyringBackend(applicationID: applicationID, timeout: timeout))
        } else {
            self.init(backend: try SecretServiceBackend(applicationID: applicationID, userInteraction: userInteraction, timeout: timeout))
        }
    }
}
#endif
