import DictionaryBackend
import SecureStoreContract
import Testing

/// A backend of your own held to SecureStore's contract: every check, each a test case.
@Suite("Example: a backend of your own keeps the contract")
struct DictionaryBackendTests {
    @Test(arguments: BackendContract.Check.allCases)
    func keepsTheContract(check: BackendContract.Check) async throws {
        let storage = DictionaryBackend.Storage()
        try await BackendContract { applicationID in DictionaryBackend(applicationID: applicationID, storage: storage) }
            .verify(check)
    }
}
