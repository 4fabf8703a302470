#if canImport(CLibSecret)
/// Where ``SecureStore/init(applicationID:userInteraction:timeout:keyring:logger:)`` keeps items.
public enum KeyringLocation: Sendable, Hashable {
    /// Inside a Flatpak or Snap sandbox (libsecret's rule: `/.flatpak-info` exists, or
    /// `SNAP_NAME` is set), the sandbox keyring, as libsecret's own password API does. Elsewhere
    /// the desktop's Secret Service; where none answers, the keyring file that the environment
    /// names, if it names one (`SECURESTORE_KEYRING_FILE` with `SECURESTORE_PASSWORD_FILE` or
    /// `SECURESTORE_CREDENTIAL`: see ``FallbackKeyringFile``). The choice is made at the first
    /// call and kept for the store's life.
    case automatic
    /// The desktop's Secret Service (``SecretServiceBackend``), also from a sandbox: for apps
    /// whose sandbox may talk to `org.freedesktop.secrets`, and for their migration.
    case secretService
    /// The app's own keyring in its sandbox (``SandboxKeyringBackend``); outside a sandbox
    /// every call fails with ``SecureStoreError/Code/serviceUnavailable``.
    case sandboxKeyring
    /// The encrypted keyring file at `path` (``FileKeyringBackend``), whatever else answers:
    /// for servers, containers and CI, with the password from a file or a systemd credential.
    case file(path: String, password: KeyringPassword)
}
#endif
