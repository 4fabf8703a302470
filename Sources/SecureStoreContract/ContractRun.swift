import SecureStore
import Synchronization

/// One check's run: the stores it made (applications named from its own prefix), what they
/// wrote, and the cleanup.
final class ContractRun: Sendable {
    let check: BackendContract.Check
    let applicationPrefix: String
    private let makeBackend: BackendContract.MakeBackend
    /// The (store, options) pairs written with, for the cleanup.
    private let written = Mutex<[(SecureStore, SecureStoreOptions)]>([])

    init(check: BackendContract.Check, applicationPrefix: String, makeBackend: @escaping BackendContract.MakeBackend) {
        self.check = check
        self.applicationPrefix = applicationPrefix
        self.makeBackend = makeBackend
    }

    /// The store of application `name` (a suffix of the run's prefix).
    func store(_ name: String = "app") async throws -> SecureStore {
        SecureStore(backend: try await makeBackend("\(applicationPrefix).\(name)"))
    }

    /// Options that the cleanup will clear: every write of a check goes through these.
    func options(_ options: SecureStoreOptions = SecureStoreOptions(), of store: SecureStore) -> SecureStoreOptions {
        var cleared = options
        cleared.synchronizable = .any
        cleared.keychainAccessible = .whenUnlocked
        written.withLock { $0.append((store, cleared)) }
        return options
    }

    /// Throws a violation of the check unless `condition` holds.
    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw BackendContract.Violation(check: check, message: message()) }
    }

    func perform() async throws {
        switch check {
        case .valuesRoundTripByteForByte: try await valuesRoundTripByteForByte()
        case .missingKeysReadNilAndDeleteSucceeds: try await missingKeysReadNilAndDeleteSucceeds()
        case .overwriteReplacesTheValueAndLeavesOneKey: try await overwriteReplacesTheValueAndLeavesOneKey()
        case .servicesIsolateItems: try await servicesIsolateItems()
        case .applicationsIsolateItems: try await applicationsIsolateItems()
        case .accessGroupsAreSharedAndApartFromTheApplication: try await accessGroupsAreSharedAndApartFromTheApplication()
        case .synchronizableSelectsItems: try await synchronizableSelectsItems()
        case .allKeysAreSortedAndEachOnce: try await allKeysAreSortedAndEachOnce()
        case .namesAreTheirBytes: try await namesAreTheirBytes()
        case .concurrentWritesLoseNothing: try await concurrentWritesLoseNothing()
        }
    }

    /// Removes every item the run wrote; errors are ignored (what is left is the backend's).
    func cleanUp() async {
        for (store, options) in written.withLock({ $0 }) {
            try? await store.deleteAll(options: options)
        }
    }
}
