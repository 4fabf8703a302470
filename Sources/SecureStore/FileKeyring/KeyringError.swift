#if canImport(CLibSecret)
import Glibc

/// What goes wrong in the file keyring, before it becomes a ``SecureStoreError``.
enum KeyringError: Error, Equatable {
    /// The file is not a keyring libsecret could have written (truncated, changed, hostile).
    case corrupt(String)
    /// The key does not open the keyring: no item verifies, the key check among them.
    case wrongKey
    /// The item under the asked key does not verify: changed on disk, or sealed with another key.
    case unverifiable
    /// A file operation failed with `errno`.
    case system(String, Int32)
    /// libgcrypt failed.
    case crypto(String)
    /// Another process held the keyring's lock for the whole timeout.
    case lockTimeout
    /// The password could not be had (a password file refused, the portal's key not handed over).
    case password(SecureStoreError)

    /// A `system` error for the call `what` that just failed.
    static func lastSystemError(_ what: String) -> KeyringError { .system(what, errno) }

    /// The error as the store reports it; `path` names the file, never a value.
    func secureStoreError(path: String) -> SecureStoreError {
        switch self {
        case .corrupt(let detail):
            SecureStoreError(.keyChain, "The keyring file \(path) is damaged or not a keyring (it \(detail)); nothing was changed. Move it aside to start a new keyring.",
                             backendDomain: Self.domain, backendCode: 1)
        case .wrongKey:
            SecureStoreError(.keyChain, "The keyring file \(path) does not open with this key (a wrong password, or a key that changed); nothing was changed.",
                             backendDomain: Self.domain, backendCode: 2)
        case .unverifiable:
            SecureStoreError(.keyChain, "The item does not verify in \(path): it was changed on disk or sealed with another key. Other keys are unaffected; delete or overwrite this one.",
                             backendDomain: Self.domain, backendCode: 3)
        case .system(let what, let code):
            SecureStoreError(.keyChain, "The keyring file \(path) could not be used: \(what) failed: \(String(cString: strerror(code)))",
                             backendDomain: "errno", backendCode: Int(code))
        case .crypto(let detail):
            SecureStoreError(.keyChain, "The keyring's cryptography failed (\(detail)).", backendDomain: Self.domain, backendCode: 4)
        case .lockTimeout:
            SecureStoreError(.timeout, "Another process held the keyring file \(path) for the whole timeout; nothing was changed.")
        case .password(let error):
            error
        }
    }

    static let domain = "securestore-file-keyring"
}
#endif
