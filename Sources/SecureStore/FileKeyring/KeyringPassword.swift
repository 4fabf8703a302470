#if canImport(CLibSecret)
import Glibc

/// Where a file keyring's password comes from. The password is the bytes exactly; the key is
/// derived from it and the file's salt, as libsecret does, so libsecret opens the same file
/// with the same password (`SECRET_FILE_TEST_PASSWORD`).
public struct KeyringPassword: Sendable, Hashable, CustomStringConvertible {
    enum Source: Sendable, Hashable {
        case file(String)
        case credential(String)
        case secretPortal
        /// A key handed over as the portal hands its own, for tests of a key that changed.
        case portalLike([UInt8])
    }
    let source: Source

    /// The contents of the file at `path`, byte for byte (a final newline included): a regular
    /// file of this user, not a symbolic link, that group and others cannot read, holding at
    /// least ``minimumLength`` bytes.
    public static func file(_ path: String) -> KeyringPassword { KeyringPassword(source: .file(path)) }

    /// The systemd credential `name`: the file `name` in `$CREDENTIALS_DIRECTORY`, as
    /// `LoadCredential=` and `LoadCredentialEncrypted=` provide it, with a password file's rules.
    public static func credential(_ name: String) -> KeyringPassword { KeyringPassword(source: .credential(name)) }

    /// The key the Secret portal hands a sandboxed app (see ``SandboxKeyringBackend``).
    static let secretPortal = KeyringPassword(source: .secretPortal)

    public var description: String {
        switch source {
        case .file(let path): "password file \(path)"
        case .credential(let name): "systemd credential \(name)"
        case .secretPortal: "the Secret portal's key"
        case .portalLike: "a key given as the portal's"
        }
    }

    /// Whether a key that opens none of the keyring's items is refused. A password from a file
    /// is refused (a wrong password must never read as "not found", nor add items the right
    /// one cannot read); the portal's key is taken as it comes, since the portal hands over
    /// no other: the items sealed with a former key are set aside (see `FileKeyringBackend`).
    var refusesAnotherKey: Bool {
        switch source {
        case .file, .credential: true
        case .secretPortal, .portalLike: false
        }
    }

    /// The fewest bytes a password may have: a keyring file can be copied and guessed at
    /// offline, and 16 random bytes (or a passphrase of that length) keep guessing out of
    /// reach, while `systemd-creds` and `openssl rand` give far more.
    public static let minimumLength = 16

    /// The most bytes a password file may hold.
    static let maximumSize = 64 << 10

    /// The file the password is read from: the password file, or the credential's file in
    /// `$CREDENTIALS_DIRECTORY`; `nil` for the portal's key.
    func path() throws(SecureStoreError) -> String? {
        switch source {
        case .file(let path): path
        case .credential(let name): try Self.credentialPath(name)
        case .secretPortal, .portalLike: nil
        }
    }

    /// Reads a password file, refusing one others could read or change. Blocking.
    static func read(path: String, what: String) throws(SecureStoreError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            // A link could lead to another user's file, or be swapped for one: the file itself is named.
            if errno == ELOOP { throw SecureStoreError(.invalidOptions, "The \(what) \(path) is a symbolic link; name the file itself.") }
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) cannot be opened: \(String(cString: strerror(errno))).")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) is not a regular file.")
        }
        guard status.st_uid == geteuid() else {
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) belongs to another user.")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) can be read or changed by others (mode \(String(status.st_mode & 0o777, radix: 8))); make it 0600 or 0400.")
        }
        guard status.st_size <= maximumSize else {
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) is over \(maximumSize >> 10) KiB.")
        }
        var password = [UInt8](repeating: 0, count: Int(status.st_size))
        var done = 0
        while done < password.count {
            let count = password.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + done, $0.count - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            done += count
        }
        password.removeLast(password.count - done)
        guard password.count >= minimumLength else {
            let found = password.isEmpty ? "is empty" : "holds \(password.count) bytes"
            wipe(&password)
            throw SecureStoreError(.invalidOptions, "The \(what) \(path) \(found); a keyring's password needs at least \(minimumLength).")
        }
        return password
    }

    /// The path of systemd credential `name`.
    static func credentialPath(_ name: String) throws(SecureStoreError) -> String {
        guard let directory = getenv("CREDENTIALS_DIRECTORY").map({ String(cString: $0) }), !directory.isEmpty else {
            throw SecureStoreError(.invalidOptions, "CREDENTIALS_DIRECTORY is not set: the credential '\(name)' needs a systemd service with LoadCredential=.")
        }
        guard directory.hasPrefix("/") else {
            throw SecureStoreError(.invalidOptions, "CREDENTIALS_DIRECTORY must be an absolute path.")
        }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw SecureStoreError(.invalidOptions, "A credential's name is a file name in CREDENTIALS_DIRECTORY, without '/'.")
        }
        return directory + "/" + name
    }
}
#endif
