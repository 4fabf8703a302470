import Foundation
import Synchronization
import Testing
@testable import SecureStore

/// The backends every contract test runs against.
enum BackendKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    /// A real Secret Service provider: run the tests under Scripts/with-secret-service.
    case secretService
    /// The app's keyring in a Flatpak-like sandbox: run the tests under Scripts/with-sandbox.
    case sandboxKeyring
    /// A file keyring with a password file, in a folder of this test process's own; under
    /// Scripts/with-headless, keyed by a systemd credential and reached through `.automatic`'s
    /// choice on a machine with no bus.
    case fileKeyring
    var testDescription: String { rawValue }

    /// The in-memory backend and the file keyring everywhere (neither needs a service); in a
    /// sandbox, the sandbox keyring too (the Secret Service is out of reach there); outside
    /// one, the Secret Service. Without a keyring to test against (see `TestSelection`), or on
    /// a machine without a bus, neither of those.
    static var allCases: [BackendKind] {
        guard TestSelection.runsKeyringTests, !TestSelection.isHeadless else { return [.inMemory, .fileKeyring] }
        return SandboxKeyringBackend.isSandboxed ? [.inMemory, .fileKeyring, .sandboxKeyring] : [.inMemory, .fileKeyring, .secretService]
    }
}

/// A test's view of one keyring: stores for any number of applications that share it, the
/// items they left behind, and cleanup.
final class BackendFixture: Sendable {
    let kind: BackendKind
    /// Unique per test, so tests running in parallel on one daemon never meet.
    let applicationPrefix = "securestore-test-\(UUID().uuidString.prefix(8))"
    private let keyring = InMemoryBackend.Keyring()
    /// By their bytes: canonically equivalent names are distinct namespaces to clean up.
    private let applicationsUsed = Mutex<Set<[UInt8]>>([])
    private let accessGroupsUsed = Mutex<Set<[UInt8]>>([])

    /// The file keyring's folder, for `.fileKeyring`: one per fixture, as a test of its own.
    private let fileFolder: FileKeyringFolder?

    init(_ kind: BackendKind) {
        self.kind = kind
        fileFolder = kind == .fileKeyring ? FileKeyringFolder(prefilled: true) : nil
    }

    /// The backend of application `name` (a suffix of this test's unique prefix).
    func backend(_ name: String = "app") -> any SecureStoreBackend {
        let applicationID = "\(applicationPrefix).\(name)"
        applicationsUsed.withLock { _ = $0.insert(Array(applicationID.utf8)) }
        switch kind {
        case .inMemory:
            return InMemoryBackend(applicationID: applicationID, keyring: keyring)
        case .secretService:
            return secretServiceBackend(applicationID)
        case .sandboxKeyring:
            return sandboxBackend(applicationID)
        case .fileKeyring where TestSelection.isHeadless:
            // What SecureStore(applicationID:) builds from SECURESTORE_KEYRING_FILE and
            // SECURESTORE_CREDENTIAL, with this fixture's own file.
            return AutomaticBackend(secretService: secretServiceBackend(applicationID), fallback: fileBackend(applicationID))
        case .fileKeyring:
            return fileBackend(applicationID)
        }
    }

    func store(_ name: String = "app") -> SecureStore {
        SecureStore(backend: backend(name))
    }

    /// An access group unique to this test, removed at its end.
    func accessGroup(_ name: String) -> String {
        let group = "\(applicationPrefix).group.\(name)"
        accessGroupsUsed.withLock { _ = $0.insert(Array(group.utf8)) }
        return group
    }

    /// What the keyring holds for the key in an access group, values left out.
    func records(accessGroup: String?, service: String = SecureStoreOptions.defaultService, key: String) async throws -> [ItemRecord] {
        switch kind {
        case .inMemory:
            return keyring.records.filter { $0.accessGroup == accessGroup && $0.service == service && $0.key == key }
        case .secretService:
            return try await secretServiceBackend("\(applicationPrefix).app").records(service: service, key: key, accessGroup: accessGroup)
        case .sandboxKeyring:
            return try await sandboxBackend("\(applicationPrefix).app").records(service: service, key: key, accessGroup: accessGroup)
        case .fileKeyring:
            return try await fileBackend("\(applicationPrefix).app").records(service: service, key: key, accessGroup: accessGroup)
        }
    }

    /// What the keyring holds for (application, service, key), values left out.
    func records(application name: String = "app", service: String = SecureStoreOptions.defaultService, key: String) async throws -> [ItemRecord] {
        let applicationID = "\(applicationPrefix).\(name)"
        switch kind {
        case .inMemory:
            return keyring.records.filter { $0.application == applicationID && $0.service == service && $0.key == key }
        case .secretService:
            return try await secretServiceBackend(applicationID).records(service: service, key: key)
        case .sandboxKeyring:
            return try await sandboxBackend(applicationID).records(service: service, key: key)
        case .fileKeyring:
            return try await fileBackend(applicationID).records(service: service, key: key)
        }
    }

    /// Removes whatever this test stored.
    func cleanUp() async throws {
        for applicationID in applicationsUsed.withLock({ $0 }).map({ String(decoding: $0, as: UTF8.self) }) {
            switch kind {
            case .inMemory: return
            case .secretService: try await secretServiceBackend(applicationID).deleteEverything()
            case .sandboxKeyring: try await sandboxBackend(applicationID).deleteEverything()
            case .fileKeyring: try await fileBackend(applicationID).deleteEverything()
            }
        }
        for group in accessGroupsUsed.withLock({ $0 }).map({ String(decoding: $0, as: UTF8.self) }) {
            switch kind {
            case .inMemory: return
            case .secretService: try await secretServiceBackend("\(applicationPrefix).app").deleteEverything(accessGroup: group)
            case .sandboxKeyring: try await sandboxBackend("\(applicationPrefix).app").deleteEverything(accessGroup: group)
            case .fileKeyring: try await fileBackend("\(applicationPrefix).app").deleteEverything(accessGroup: group)
            }
        }
    }

    /// Every suite shares one daemon and one process's worker threads, on two cores: a call's
    /// step waits its turn behind the others' (its time queued counts against its timeout), so
    /// the contract's calls get a timeout that such a queue never reaches. The timeouts
    /// themselves are tested elsewhere, with timeouts of their own.
    static let timeout = Duration.seconds(60)

    private func sandboxBackend(_ applicationID: String) -> SandboxKeyringBackend {
        try! SandboxKeyringBackend(applicationID: applicationID, timeout: Self.timeout)
    }

    private func fileBackend(_ applicationID: String) -> FileKeyringBackend {
        let password: KeyringPassword = TestSelection.isHeadless ? FileKeyringFolder.credential : .file(fileFolder!.password)
        return try! FileKeyringBackend(applicationID: applicationID, path: fileFolder!.keyring, password: password, timeout: Self.timeout)
    }

    private func secretServiceBackend(_ applicationID: String) -> SecretServiceBackend {
        // Tests never prompt: a locked keyring must fail fast, not wait for a person.
        try! SecretServiceBackend(applicationID: applicationID, userInteraction: .notAllowed, timeout: Self.timeout)
    }
}

/// Runs `body` with a fresh fixture and always cleans up after it.
func withFixture(_ kind: BackendKind, _ body: (BackendFixture) async throws -> Void) async throws {
    let fixture = BackendFixture(kind)
    try await withCleanUp({ try await fixture.cleanUp() }) { try await body(fixture) }
}

/// The error `body` throws, as a `SecureStoreError`, or a recorded failure.
func secureStoreError(
    _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> SecureStoreError? {
    do {
        try await body()
        Issue.record("expected a SecureStoreError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as SecureStoreError {
        return error
    } catch {
        Issue.record("expected a SecureStoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A folder for a test's file keyring: `keyring` is its path, `password` its password file
/// (0600). Removed by nobody: it lives in the run's temporary folder.
struct FileKeyringFolder: Sendable {
    let path: String
    var keyring: String { path + "/keyrings/default.keyring" }
    var password: String { path + "/password" }

    static let password = "contract-suite-password"

    /// The systemd credential holding ``password``, written once into `$CREDENTIALS_DIRECTORY`
    /// (mode 0400, as systemd leaves it) under Scripts/with-headless.
    static let credential: KeyringPassword = {
        let name = "securestore-contract-suite"
        let path = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"]! + "/" + name
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: Data(password.utf8), attributes: [.posixPermissions: 0o400])
        }
        return .credential(name)
    }()

    /// A new folder with a password file. `prefilled`: with an empty keyring made from one
    /// template per process, so that every such keyring has one salt and the process derives
    /// its key once (under AddressSanitizer a derivation costs seconds: libgcrypt's PBKDF2
    /// allocates at every round).
    init(prefilled: Bool = false) {
        path = NSTemporaryDirectory() + "/securestore-file-keyring-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = FileManager.default.createFile(atPath: path + "/password", contents: Data(Self.password.utf8), attributes: [.posixPermissions: 0o600])
        if prefilled {
            try! FileManager.default.createDirectory(atPath: path + "/keyrings", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = FileManager.default.createFile(atPath: keyring, contents: Data(Self.template), attributes: [.posixPermissions: 0o600])
        }
    }

    /// An empty keyring (its key check item only) for `password`.
    private static let template: [UInt8] = {
        let contents = try! OpenedKeyring.newContents(now: 0)
        let key = try! KeyCache.key(password: Array(password.utf8), salt: contents.salt, iterations: contents.iterations)
        var keyring = OpenedKeyring(contents, key: key)
        try! keyring.ensureKeyCheck(now: 0)
        return KeyringFileFormat.encode(keyring.contents)
    }()
}
