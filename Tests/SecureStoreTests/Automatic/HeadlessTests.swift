import Foundation
import Testing
@_spi(SecureStoreInternal) @testable import SecureStore

/// A machine with no desktop: no session bus, a keyring file named by the environment or the
/// command line, its password from a systemd credential or a password file.
@Suite("Headless machines", TestSelection(), .tags(.keyring, .headless, .processes))
struct HeadlessTests {
    /// The environment names one keyring file and one password source, or is refused with a
    /// typed error that says which variable to fix; unset (or empty) variables name none.
    @Test func theEnvironmentNamesOneKeyringFileOrIsRefused() throws {
        func fallback(_ variables: [String: String]) throws(SecureStoreError) -> FallbackKeyringFile? {
            try FallbackKeyringFile.fromEnvironment { variables[$0].map { Array($0.utf8) } }
        }
        #expect(try fallback([:]) == nil)
        #expect(try fallback(["SECURESTORE_KEYRING_FILE": "", "SECURESTORE_CREDENTIAL": ""]) == nil)
        #expect(try fallback(["SECURESTORE_KEYRING_FILE": "/k", "SECURESTORE_PASSWORD_FILE": "/p"])
                == FallbackKeyringFile(path: "/k", password: .file("/p")))
        #expect(try fallback(["SECURESTORE_KEYRING_FILE": "/k", "SECURESTORE_CREDENTIAL": "c"])
                == FallbackKeyringFile(path: "/k", password: .credential("c")))
        let refused: [([String: String], String)] = [
            (["SECURESTORE_KEYRING_FILE": "/k"], "SECURESTORE_PASSWORD_FILE or SECURESTORE_CREDENTIAL"),
            (["SECURESTORE_CREDENTIAL": "c"], "without SECURESTORE_KEYRING_FILE"),
            (["SECURESTORE_PASSWORD_FILE": "/p"], "without SECURESTORE_KEYRING_FILE"),
            (["SECURESTORE_KEYRING_FILE": "/k", "SECURESTORE_PASSWORD_FILE": "/p", "SECURESTORE_CREDENTIAL": "c"], "Both"),
            (["SECURESTORE_KEYRING_FILE": "k", "SECURESTORE_CREDENTIAL": "c"], "SECURESTORE_KEYRING_FILE must be an absolute path"),
            (["SECURESTORE_KEYRING_FILE": "/k", "SECURESTORE_PASSWORD_FILE": "p"], "SECURESTORE_PASSWORD_FILE must be an absolute path"),
        ]
        for (variables, message) in refused {
            #expect(throws: SecureStoreError.self, "\(variables)") { try fallback(variables) }
            do { _ = try fallback(variables) } catch {
                #expect(error.code == .invalidOptions && error.message.contains(message), "\(error)")
            }
        }
        // A name is its bytes: one that is not UTF-8 is refused, never repaired into another.
        do {
            _ = try FallbackKeyringFile.fromEnvironment { $0 == "SECURESTORE_KEYRING_FILE" ? [0x2F, 0xFF] : $0 == "SECURESTORE_CREDENTIAL" ? [0x63] : nil }
            Issue.record("a path that is not UTF-8 was taken")
        } catch {
            #expect(error.code == .invalidOptions && error.message.contains("not UTF-8"))
        }
    }

    /// With no bus and nothing named, every command fails with ERR_SERVICE_UNAVAILABLE (69),
    /// whose message names the choices, and nothing is written anywhere: not in the home
    /// folder, the runtime folder, the data folder, the credential folder or the working folder.
    @Test func withNothingConfiguredCallsFailAndNothingIsWritten() async throws {
        let machine = HeadlessMachine()
        for arguments in [["set", "token"], ["get", "token"], ["list"], ["delete", "token"], ["exists", "token"]] {
            let outcome = try await machine.securestore(arguments, input: "value")
            #expect(outcome.status == 69, "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardError.contains("ERR_SERVICE_UNAVAILABLE") && outcome.standardError.contains("SECURESTORE_KEYRING_FILE")
                    && outcome.standardError.contains("SECURESTORE_CREDENTIAL") && outcome.standardError.contains("--keyring-file"),
                    "\(outcome.standardError)")
        }
        let doctor = try await machine.securestore(["doctor", "--json"])
        #expect(doctor.status == 69)
        #expect(doctor.standardOutput.contains(#""keyring":"none""#) && doctor.standardOutput.contains(#""answers":false"#)
                && doctor.standardOutput.contains(#""usable":false"#), "\(doctor.standardOutput)")
        #expect(machine.everythingWritten == [], "\(machine.everythingWritten)")
    }

    /// A systemd credential keys the keyring file that SECURESTORE_KEYRING_FILE names, on a
    /// machine with no bus: every command works, the file is 0600 in a new 0700 folder,
    /// doctor says which keyring and why, and libsecret's own file backend reads the items with
    /// the same password and writes items SecureStore reads.
    @Test func aCredentialKeysTheNamedKeyringFileWithNoBus() async throws {
        let machine = HeadlessMachine()
        let password = machine.credential("app-keyring", holding: UUID().uuidString)
        let keyring = machine.root + "/state/keyrings/app.keyring"
        let named = ["SECURESTORE_KEYRING_FILE": keyring, "SECURESTORE_CREDENTIAL": "app-keyring"]
        #expect(try await machine.securestore(["set", "token", "--service", "api"], input: "s3cr3t", environment: named).status == 0)
        let got = try await machine.securestore(["get", "token", "--service", "api"], environment: named)
        #expect(got.status == 0 && got.standardOutput == "s3cr3t\n", "\(got.standardError)")
        #expect(try await machine.securestore(["list", "--service", "api"], environment: named).standardOutput == "token\n")
        #expect(machine.mode(of: keyring) == 0o600 && machine.mode(of: machine.root + "/state/keyrings") == 0o700)

        let doctor = try await machine.securestore(["doctor"], environment: named)
        #expect(doctor.status == 0, "\(doctor.standardOutput)\(doctor.standardError)")
        for line in ["keyring: file-keyring: no Secret Service answers", "session bus: none", "sandbox: no",
                     "keyring file: \(keyring), mode 0600, 2 items (its key check item included), 0 that do not verify",
                     "password: systemd credential app-keyring, \(machine.credentials)/app-keyring, mode 0400", "status: usable"] {
            #expect(doctor.standardOutput.contains(line), "missing \(line)\n\(doctor.standardOutput)")
        }
        #expect(!doctor.standardOutput.contains("s3cr3t") && !doctor.standardOutput.contains(password))

        let attributes = ["xdg:schema", SecretServiceBackend.schemaName, "application", "securestore", "service", "api", "key", "token", "synchronizable", "false"]
        let libsecret = ["SECRET_BACKEND": "file", "SECRET_FILE_TEST_PATH": keyring, "SECRET_FILE_TEST_PASSWORD": password]
        let lookup = try await machine.run(["secret-tool", "lookup"] + attributes, environment: libsecret)
        #expect(lookup.status == 0 && lookup.standardOutput == "s3cr3t", "\(lookup.standardError)")
        let stored = try await machine.run(["secret-tool", "store", "--label", "securestore / api / token [WHEN_UNLOCKED]"] + attributes,
                                           environment: libsecret, input: "from libsecret")
        #expect(stored.status == 0, "\(stored.standardError)")
        #expect(try await machine.securestore(["get", "token", "--service", "api"], environment: named).standardOutput == "from libsecret\n")
        #expect(try await machine.securestore(["delete", "token", "--service", "api"], environment: named).status == 0)
        #expect(try await machine.securestore(["exists", "token", "--service", "api"], environment: named).status == 1)
    }

    /// A wrong password is ERR_KEY_CHAIN (exit 2) before anything changes, never "not found":
    /// the file stays byte for byte as it was, and doctor says the password opens nothing.
    @Test func aWrongPasswordChangesNothing() async throws {
        let machine = HeadlessMachine()
        let keyring = machine.root + "/keyring"
        let right = ["SECURESTORE_KEYRING_FILE": keyring, "SECURESTORE_CREDENTIAL": "right"]
        let wrong = ["SECURESTORE_KEYRING_FILE": keyring, "SECURESTORE_CREDENTIAL": "wrong"]
        _ = machine.credential("right", holding: "the right password, 32 bytes...")
        _ = machine.credential("wrong", holding: "a wrong password of 32 bytes....")
        #expect(try await machine.securestore(["set", "token"], input: "kept", environment: right).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: keyring))
        for arguments in [["set", "token"], ["get", "token"], ["delete", "token"], ["clear"], ["list"]] {
            let outcome = try await machine.securestore(arguments, input: "replacement", environment: wrong)
            #expect(outcome.status == 2 && outcome.standardError.contains("ERR_KEY_CHAIN"), "\(arguments): \(outcome.standardError)")
        }
        let doctor = try await machine.securestore(["doctor"], environment: wrong)
        #expect(doctor.status == 2 && doctor.standardOutput.contains("status: not usable: ERR_KEY_CHAIN"), "\(doctor.standardOutput)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyring)) == before)
        #expect(try await machine.securestore(["get", "token"], environment: right).standardOutput == "kept\n")
    }

    /// A credential is a file name in an absolute `$CREDENTIALS_DIRECTORY`: without that folder,
    /// with a relative one, or with a name that would leave it, the call is ERR_INVALID_OPTIONS
    /// (exit 64) and nothing is written.
    @Test(arguments: [("unset", "name"), ("relative", "name"), ("set", "../name"), ("set", "..")])
    func aCredentialOutsideItsFolderIsRefused(directory: String, name: String) async throws {
        let machine = HeadlessMachine()
        _ = machine.credential("name", holding: FileKeyringFolder.password)
        // A usable credential where the relative folder would lead: refused all the same.
        try FileManager.default.createDirectory(atPath: machine.work + "/credentials", withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: machine.work + "/credentials/name", contents: Data(FileKeyringFolder.password.utf8),
                                           attributes: [.posixPermissions: 0o400])
        let keyring = machine.root + "/keyring"
        var environment = ["SECURESTORE_KEYRING_FILE": keyring, "SECURESTORE_CREDENTIAL": name]
        if directory == "relative" { environment["CREDENTIALS_DIRECTORY"] = "credentials" }
        let command = (directory == "unset" ? ["env", "-u", "CREDENTIALS_DIRECTORY"] : []) + [Subprocess.securestore, "set", "token"]
        let outcome = try await machine.run(command, environment: environment, input: "value")
        #expect(outcome.status == 64 && outcome.standardError.contains("ERR_INVALID_OPTIONS"), "\(outcome.standardError)")
        #expect(!FileManager.default.fileExists(atPath: keyring))
    }

    enum PasswordFault: String, CaseIterable, Sendable {
        case readableByGroup, readableByOthers, missing, empty, tooShort, symlinkToAnotherUsersFile, anotherUsersFile, folder
    }

    /// A password file that others could read or swap, or that holds no usable password, is
    /// refused with ERR_INVALID_OPTIONS (exit 64) that says what is wrong, through the command
    /// line and the environment alike, and the keyring file stays byte for byte as it was.
    @Test(arguments: PasswordFault.allCases)
    func anUnsafeOrUnusablePasswordFileIsRefused(fault: PasswordFault) async throws {
        let machine = HeadlessMachine()
        let place = FileKeyringPlace(prefilled: true)
        let path = machine.root + "/password"
        let good = Data(FileKeyringFolder.password.utf8)
        let expected: String
        switch fault {
        case .readableByGroup, .readableByOthers:
            _ = FileManager.default.createFile(atPath: path, contents: good, attributes: [.posixPermissions: fault == .readableByGroup ? 0o640 : 0o604])
            expected = "can be read or changed by others"
        case .missing:
            expected = "cannot be opened"
        case .empty:
            _ = FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o600])
            expected = "is empty"
        case .tooShort:
            _ = FileManager.default.createFile(atPath: path, contents: Data("fifteen bytes..".utf8), attributes: [.posixPermissions: 0o600])
            expected = "holds 15 bytes; a keyring's password needs at least 16"
        case .symlinkToAnotherUsersFile:
            let target = try machine.anotherUsersFile(holding: good)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
            expected = "is a symbolic link"
        case .anotherUsersFile:
            try FileManager.default.moveItem(atPath: try machine.anotherUsersFile(holding: good), toPath: path)
            expected = geteuid() == 0 ? "belongs to another user" : "cannot be opened"
        case .folder:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            expected = "is not a regular file"
        }
        let before = place.bytes
        let viaOptions = try await machine.securestore(["set", "token", "--keyring-file", place.keyring, "--password-file", path], input: "value")
        let viaEnvironment = try await machine.securestore(["set", "token"], input: "value",
                                                           environment: ["SECURESTORE_KEYRING_FILE": place.keyring, "SECURESTORE_PASSWORD_FILE": path])
        for outcome in [viaOptions, viaEnvironment] {
            #expect(outcome.status == 64 && outcome.standardError.contains("ERR_INVALID_OPTIONS") && outcome.standardError.contains(expected),
                    "\(fault): \(outcome.standardError)")
        }
        #expect(place.bytes == before)
        let doctor = try await machine.securestore(["doctor", "--keyring-file", place.keyring, "--password-file", path])
        #expect(doctor.status == 64 && doctor.standardOutput.contains(expected), "\(doctor.standardOutput)")
    }
}

/// `.automatic` on a desktop: the named keyring file is only a fallback.
@Suite("Automatic choice on a desktop", TestSelection(), .tags(.keyring))
struct AutomaticChoiceTests {
    /// Where a Secret Service answers, `.automatic` uses it even when a keyring file is named:
    /// the file is the fallback, never a second store beside the desktop's keyring.
    @Test func whereASecretServiceAnswersTheNamedFileIsNotUsed() async throws {
        let place = FileKeyringPlace(prefilled: false)
        let applicationID = "securestore-test-\(UUID().uuidString.prefix(8))"
        let secretService = try SecretServiceBackend(applicationID: applicationID, userInteraction: .notAllowed, timeout: .seconds(60))
        let automatic = AutomaticBackend(secretService: secretService, fallback: try place.backend(applicationID))
        try await SecureStore(backend: automatic).setItem("token", "value")
        #expect(try await SecureStore(backend: secretService).getItem("token") == "value")
        #expect(!FileManager.default.fileExists(atPath: place.keyring))
        try await secretService.deleteEverything()
    }

    /// doctor on a desktop names the provider (and its package's version), the owner of the
    /// service, the default collection's state and the transfer algorithm, and exits 0.
    @Test(.tags(.everyProvider)) func doctorNamesTheDesktopsProvider() async throws {
        let provider = ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER"] ?? "gnome-keyring"
        let expected = ["keepassxc": "KeePassXC", "kwallet": "KWallet"][provider] ?? "GNOME Keyring"
        let doctor = try await Subprocess.run([Subprocess.securestore, "doctor", "--json", "--timeout", "60"])
        let output = doctor.standardOutput
        #expect(doctor.status == 0, "\(output)\(doctor.standardError)")
        for part in [#""keyring":"secret-service""#, #""provider":"\#(expected)""#, #""transfer":"dh-ietf1024-sha256-aes128-cbc-pkcs7""#,
                     #""defaultCollection":"unlocked""#, #""answers":true"#, #""usable":true"#, #""owner":":"#] {
            #expect(output.contains(part), "missing \(part)\n\(output)")
        }
        // The package's version, from dpkg: these providers come from Debian packages here.
        #expect(output.contains(#""version":""#), "\(output)")
    }
}

/// A folder standing for a machine with no desktop: a home, a runtime folder with no bus in it,
/// a credential folder; the command runs there with no session bus, no display.
struct HeadlessMachine {
    let root: String
    var home: String { root + "/home" }
    var runtime: String { root + "/run" }
    var credentials: String { root + "/credentials" }
    var work: String { root + "/work" }

    init() {
        root = NSTemporaryDirectory() + "securestore-headless-\(UUID().uuidString)"
        for folder in [root, home, runtime, credentials, work] {
            try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Writes the credential `name` (mode 0400, as systemd leaves it) and returns the password.
    func credential(_ name: String, holding password: String) -> String {
        _ = FileManager.default.createFile(atPath: credentials + "/" + name, contents: Data(password.utf8), attributes: [.posixPermissions: 0o400])
        return password
    }

    /// A 0600 file of another user (nobody's, when the tests run as root; else root's own
    /// `/etc/shadow`, which this user cannot even open).
    func anotherUsersFile(holding contents: Data) throws -> String {
        guard geteuid() == 0 else { return "/etc/shadow" }
        let path = root + "/nobodys-\(UUID().uuidString.prefix(4))"
        _ = FileManager.default.createFile(atPath: path, contents: contents, attributes: [.posixPermissions: 0o600])
        guard chown(path, 65534, 65534) == 0 else { throw POSIXError(.EPERM) }
        return path
    }

    /// The environment of a machine with no desktop, with `environment`'s additions.
    func environment(_ environment: [String: String]) -> [String: String?] {
        var variables: [String: String?] = [
            "HOME": home, "XDG_RUNTIME_DIR": runtime, "CREDENTIALS_DIRECTORY": credentials,
            "XDG_DATA_HOME": nil, "XDG_CONFIG_HOME": nil, "XDG_CACHE_HOME": nil, "DBUS_SESSION_BUS_ADDRESS": nil,
            "DISPLAY": nil, "WAYLAND_DISPLAY": nil, "SNAP_NAME": nil, "SECURESTORE_APP": nil,
            "SECURESTORE_KEYRING_FILE": nil, "SECURESTORE_PASSWORD_FILE": nil, "SECURESTORE_CREDENTIAL": nil,
        ]
        for (name, value) in environment { variables[name] = value }
        return variables
    }

    /// `arguments` run in the working folder of this machine.
    func run(_ arguments: [String], environment: [String: String] = [:], input: String = "") async throws -> Subprocess.Outcome {
        try await Subprocess.run(["sh", "-c", "cd \"$0\" && exec \"$@\"", work] + arguments, environment: self.environment(environment), input: input)
    }

    /// `securestore ARGUMENTS` with a timeout that a process starved of CPU under a sanitizer meets.
    func securestore(_ arguments: [String], input: String = "", environment: [String: String] = [:]) async throws -> Subprocess.Outcome {
        try await run([Subprocess.securestore] + arguments + ["--timeout", "600"], environment: environment, input: input)
    }

    /// Every file and folder under the machine's folders, relative to its root, less the
    /// folders it was made with and the credentials the test wrote.
    var everythingWritten: [String] {
        let made: Set<String> = ["home", "run", "credentials", "work"]
        let all = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return all.filter { !made.contains($0) && !$0.hasPrefix("credentials/") }.sorted()
    }

    func mode(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }
}
