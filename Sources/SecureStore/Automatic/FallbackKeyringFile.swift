#if canImport(CLibSecret)
import Glibc

/// The keyring file that ``KeyringLocation/automatic`` uses where no Secret Service answers and
/// no sandbox is: named by the environment, never chosen on its own, so that a machine without
/// a desktop keeps secrets encrypted or not at all.
///
/// - `SECURESTORE_KEYRING_FILE`: the keyring file's absolute path;
/// - with `SECURESTORE_PASSWORD_FILE` (a password file's absolute path) or
///   `SECURESTORE_CREDENTIAL` (a systemd credential's name): where its password is.
///
/// An empty variable counts as unset.
public struct FallbackKeyringFile: Sendable, Hashable {
    public static let fileVariable = "SECURESTORE_KEYRING_FILE"
    public static let passwordFileVariable = "SECURESTORE_PASSWORD_FILE"
    public static let credentialVariable = "SECURESTORE_CREDENTIAL"

    public var path: String
    public var password: KeyringPassword

    /// What the ``SecureStoreError/Code/serviceUnavailable`` of a store with no keyring file
    /// adds: where else secrets can go.
    static let hint = "Without a desktop keyring, name an encrypted keyring file: \(fileVariable)=PATH with \(passwordFileVariable)=FILE or \(credentialVariable)=NAME (the command: --keyring-file PATH with --password-file FILE or --credential NAME)."

    /// The keyring file the environment names, or `nil` when none of the variables is set.
    ///
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` when they are set but do not name one
    ///   file and one password source (a password without a file, a file without a password,
    ///   both password sources), when a path is not absolute, or when a value is not UTF-8
    ///   (a name is its bytes: it is never repaired into another).
    public static func fromEnvironment(_ variable: (String) -> [UInt8]? = Self.processEnvironment) throws(SecureStoreError) -> FallbackKeyringFile? {
        let file = try value(of: fileVariable, variable)
        let passwordFile = try value(of: passwordFileVariable, variable)
        let credential = try value(of: credentialVariable, variable)
        guard let file else {
            guard passwordFile == nil, credential == nil else {
                throw .invalidOptions("\(passwordFileVariable) or \(credentialVariable) is set without \(fileVariable): set the keyring file's path too, or unset them.")
            }
            return nil
        }
        guard file.hasPrefix("/") else { throw .invalidOptions("\(fileVariable) must be an absolute path.") }
        switch (passwordFile, credential) {
        case (let passwordFile?, nil):
            guard passwordFile.hasPrefix("/") else { throw .invalidOptions("\(passwordFileVariable) must be an absolute path.") }
            return FallbackKeyringFile(path: file, password: .file(passwordFile))
        case (nil, let credential?):
            return FallbackKeyringFile(path: file, password: .credential(credential))
        case (nil, nil):
            throw .invalidOptions("\(fileVariable) needs its password: set \(passwordFileVariable) or \(credentialVariable).")
        case (_?, _?):
            throw .invalidOptions("Both \(passwordFileVariable) and \(credentialVariable) are set: set one of the two.")
        }
    }

    /// The process environment's value of `name`, as bytes.
    public static func processEnvironment(_ name: String) -> [UInt8]? {
        getenv(name).map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: strlen($0))) }
    }

    private static func value(of name: String, _ variable: (String) -> [UInt8]?) throws(SecureStoreError) -> String? {
        guard let bytes = variable(name), !bytes.isEmpty else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidOptions("\(name) is not UTF-8.")
        }
        return text
    }
}
#endif
