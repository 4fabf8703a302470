import Foundation
@_spi(SecureStoreInternal) @testable import SecureStore

/// A file keyring of a test's own: a folder, a password file, the keyring path in it, and
/// backends and `securestore` runs on it.
struct FileKeyringPlace: Sendable {
    let folder: FileKeyringFolder

    /// `prefilled`: the keyring starts as an empty one of the process's one salt (see
    /// `FileKeyringFolder`); else there is no keyring file yet.
    init(prefilled: Bool = true) {
        folder = FileKeyringFolder(prefilled: prefilled)
    }
    var keyring: String { folder.keyring }
    var passwordFile: String { folder.password }

    func backend(_ application: String = "app", password: KeyringPassword? = nil) throws -> FileKeyringBackend {
        try FileKeyringBackend(applicationID: application, path: keyring, password: password ?? .file(passwordFile), timeout: .seconds(60))
    }

    func store(_ application: String = "app") throws -> SecureStore { SecureStore(backend: try backend(application)) }

    /// A password file of the test's folder holding `password` (mode 0600 unless said).
    func passwordFile(_ name: String, holding password: String, mode: Int = 0o600) -> String {
        let path = folder.path + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(password.utf8), attributes: [.posixPermissions: mode])
        return path
    }

    /// `securestore ARGUMENTS --app app --keyring-file KEYRING --password-file PASSWORD`, with a
    /// timeout that a process starved of CPU by the whole suite under a sanitizer still meets
    /// (its key derivation alone costs seconds there).
    func command(_ arguments: [String], input: String = "") async throws -> Subprocess.Outcome {
        try await Subprocess.run([Subprocess.securestore] + arguments + ["--app", "app", "--keyring-file", keyring, "--password-file", passwordFile,
                                                                  "--timeout", "600"],
                                 input: input)
    }

    /// libsecret's own `secret-tool` on the file, with the same password.
    func secretTool(_ arguments: [String], input: String = "", file: String? = nil) async throws -> Subprocess.Outcome {
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
        return try await Subprocess.run(["secret-tool"] + arguments, environment: [
            "SECRET_BACKEND": "file", "SECRET_FILE_TEST_PATH": file ?? keyring, "SECRET_FILE_TEST_PASSWORD": password,
        ], input: input)
    }

    /// The file's bytes (none if it is missing). Read through `FileHandle`: Foundation's
    /// `Data(contentsOf:)` leaks its 4,096-byte buffer on an empty file (Swift 6.3.1), which
    /// LeakSanitizer reports in `Scripts/test-sanitized`.
    var bytes: [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: keyring) else { return [] }
        defer { try? handle.close() }
        return [UInt8]((try? handle.readToEnd()) ?? Data())
    }

    func write(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: keyring))
    }
}
