import Foundation
import Testing
@testable import SecureStore
import SecureStoreCodable

/// Typed values: Codable in, the same value out, or a typed error that holds no value.
extension BackendContractTests {
    struct Token: Codable, Equatable {
        var value: String
        var expires: Date
        var scopes: [String]
    }

    struct Other: Codable {
        var count: Int
    }

    @Test(arguments: BackendKind.allCases)
    func codableValuesRoundTripAndMismatchesAreTypedErrors(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let token = Token(value: "s3cr3t-token-value", expires: Date(timeIntervalSince1970: 1_900_000_000.125), scopes: ["read", "write"])
            try await store.setValue("token", token)
            #expect(try await store.getValue("token", as: Token.self) == token)
            #expect(try await store.getValue("missing", as: Token.self) == nil)
            // Stored as JSON text, readable by people and the shell.
            #expect(try await store.getItem("token")?.hasPrefix("{\"expires\":") == true)

            let mismatch = await secureStoreError { _ = try await store.getValue("token", as: Other.self) }
            #expect(mismatch?.code == .decodingFailed)
            #expect(mismatch?.message.contains("count") == true, "names what did not fit: \(mismatch?.message ?? "")")
            try await store.setItem("plain", "s3cr3t-plain {not json")
            let notJSON = await secureStoreError { _ = try await store.getValue("plain", as: Token.self) }
            #expect(notJSON?.code == .decodingFailed)
            for error in [mismatch, notJSON].compactMap({ $0 }) {
                #expect(!error.description.contains("s3cr3t"), "no value in \(error.description)")
            }

            let unencodable = await secureStoreError { try await store.setValue("nan", Double.nan) }
            #expect(unencodable?.code == .encodingFailed)
            #expect(try await store.containsItem("nan") == false)

            // A dictionary's keys are part of the value: errors name neither them nor its values.
            try await store.setValue("map", ["ghp_SECRET123": 1])
            let keyed = await secureStoreError { _ = try await store.getValue("map", as: [String: String].self) }
            #expect(keyed?.code == .decodingFailed)
            let nanKeyed = await secureStoreError { try await store.setValue("nanmap", ["ghp_NANKEY": Double.nan]) }
            #expect(nanKeyed?.code == .encodingFailed)
            let nested = await secureStoreError { try await store.setValue("nested", [["ghp_DEEP": [Double.nan]]]) }
            #expect(nested?.code == .encodingFailed)
            for error in [keyed, nanKeyed, nested].compactMap({ $0 }) {
                #expect(!error.description.contains("ghp_"), "no part of the value in \(error.description)")
                #expect(error.message.contains("depth"), "says where: \(error.message)")
            }
        }
    }
}
