#if canImport(CLibSecret)
import Logging

/// The keyring's password, read once, and the key derived from it for a file's salt.
extension FileKeyringBackend {
    /// The key for `contents`' salt and iteration count, from the password.
    func key(for contents: KeyringContents) throws(KeyringError) -> KeyringCrypto.Key {
        try KeyCache.key(password: try passwordNow(), salt: contents.salt, iterations: contents.iterations)
    }

    /// Fails unless the password can be had. Blocking.
    func checkPassword() throws(KeyringError) {
        _ = try passwordNow()
    }

    private func passwordNow() throws(KeyringError) -> [UInt8] {
        if let bytes = passwordBytes.withLock({ $0 }) { return bytes }
        let bytes: [UInt8]
        let start = ContinuousClock.now
        do {
            switch password.source {
            case .file(let path): bytes = try KeyringPassword.read(path: path, what: "password file")
            case .credential(let name): bytes = try KeyringPassword.read(path: try KeyringPassword.credentialPath(name), what: "credential")
            case .secretPortal: bytes = try PortalSecret.password(timeout: timeout)
            case .portalLike(let key): bytes = key
            }
        } catch {
            throw .password(error)
        }
        logger.debug("Read the keyring's password", metadata: [
            LogKey.keyring: "\(path)", LogKey.passwordSource: "\(password.description)",
            LogKey.durationMilliseconds: (ContinuousClock.now - start).loggedMilliseconds,
        ])
        passwordBytes.withLock { $0 = bytes }
        return bytes
    }
}
#endif
