import SecureStoreContract
import Testing
@testable import SecureStore

/// `SecureStoreContract`'s checks, which users run against backends of their own, run against
/// each of the package's backends: the portable part of the contract holds here too.
@Suite("Backend contract: the portable checks", TestSelection(), .tags(.everyProvider, .sandbox, .headless))
struct PortableContractTests {
    @Test(arguments: BackendKind.allCases, BackendContract.Check.allCases)
    func everyBackendPassesThePortableChecks(kind: BackendKind, check: BackendContract.Check) async throws {
        try await withFixture(kind) { fixture in
            try await BackendContract(applicationPrefix: fixture.applicationPrefix) { name in fixture.backend(name) }.verify(check)
        }
    }
}
