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
    var testDescription: String { rawValue }

    /// In a sandbox the Secret Service is out of reach and the sandbox keyring is what there is;
    /// outside, the other way round.
    /// Without a keyring to test against (see `TestSelection`), only the in-memory backend.
    static var allCases: [BackendKind] {
        guard TestSelection.runsKeyringTests else { return [.inMemory] }
        return SandboxKeyringBackend.isSandboxed ? [.inMemory, .sandboxKeyring] : [.inMemory, .secretService]
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

    init(_ kind: BackendKind) { self.kind = kind }

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
    func records(accessGroup: String?, service: String = SecureStoreOptions.defaultService, key: String) async throws -> [InMemoryBackend.Record] {
        switch kind {
        case .inMemory:
            return keyring.records.filter { $0.accessGroup == accessGroup && $0.service == service && $0.key == key }
        case .secretService:
            return try await secretServiceBackend("\(applicationPrefix).app").records(service: service, key: key, accessGroup: accessGroup)
        case .sandboxKeyring:
            return try await sandboxBackend("\(applicationPrefix).app").records(service: service, key: key, accessGroup: accessGroup)
        }
    }

    /// What the keyring holds for (application, service, key), values left out.
    func records(application name: String = "app", service: String = SecureStoreOptions.defaultService, key: String) async throws -> [InMemoryBackend.Record] {
        let applicationID = "\(applicationPrefix).\(name)"
        switch kind {
        case .inMemory:
            return keyring.records.filter { $0.application == applicationID && $0.service == service && $0.key == key }
        case .secretService:
            return try await secretServiceBackend(applicationID).records(service: service, key: key)
        case .sandboxKeyring:
            return try await sandboxBackend(applicationID).records(service: service, key: key)
        }
    }

    /// Removes whatever this test stored.
    func cleanUp() async throws {
        for applicationID in applicationsUsed.withLock({ $0 }).map({ String(decoding: $0, as: UTF8.self) }) {
            switch kind {
            case .inMemory: return
            case .secretService: try await secretServiceBackend(applicationID).deleteEverything()
            case .sandboxKeyring: try await sandboxBackend(applicationID).deleteEverything()
            }
        }
        for group in accessGroupsUsed.withLock({ $0 }).map({ String(decoding: $0, as: UTF8.self) }) {
            switch kind {
            case .inMemory: return
            case .secretService: try await secretServiceBackend("\(applicationPrefix).app").deleteEverything(accessGroup: group)
            case .sandboxKeyring: try await sandboxBackend("\(applicationPrefix).app").deleteEverything(accessGroup: group)
            }
        }
    }

    private func sandboxBackend(_ applicationID: String) -> SandboxKeyringBackend {
        try! SandboxKeyringBackend(applicationID: applicationID, timeout: .seconds(20))
    }

    private func secretServiceBackend(_ applicationID: String) -> SecretServiceBackend {
        // Tests never prompt: a locked keyring must fail fast, not wait for a person.
        try! SecretServiceBackend(applicationID: applicationID, userInteraction: .notAllowed, timeout: .seconds(20))
    }
}

/// Runs `body` with a fresh fixture and always cleans up after it.
func withFixture(_ kind: BackendKind, _ body: (BackendFixture) async throws -> Void) async throws {
    let fixture = BackendFixture(kind)
    do {
        try await body(fixture)
    } catch {
        try? await fixture.cleanUp()
        throw error
    }
    try await fixture.cleanUp()
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
