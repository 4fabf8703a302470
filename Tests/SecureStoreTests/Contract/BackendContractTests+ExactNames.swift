import Foundation
import Testing
@testable import SecureStore

/// Names are their bytes: canonically equivalent spellings (`é` and `e` + U+0301) are two
/// namespaces, as they are to the Secret Service and `secret-tool`, on every backend and in every
/// memory the library keeps (remembered item paths, the per-key locks, the changes stream).
extension BackendContractTests {
    static let precomposed = "caf\u{E9}"
    static let decomposed = "cafe\u{301}"

    @Test(arguments: BackendKind.allCases)
    func canonicallyEquivalentServicesAreTwoNamespaces(kind: BackendKind) async throws {
        #expect(Self.precomposed == Self.decomposed, "Swift calls them equal; the keyring must not")
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let first = SecureStoreOptions(keychainService: Self.precomposed)
            let second = SecureStoreOptions(keychainService: Self.decomposed)
            try await store.setItem("k", "first", options: first)
            // Read twice, so a backend that remembers where an item is has remembered it.
            #expect(utf8Bytes(try await store.getItem("k", options: first)) == Array("first".utf8))
            #expect(utf8Bytes(try await store.getItem("k", options: first)) == Array("first".utf8))
            #expect(try await store.getItem("k", options: second) == nil)
            #expect(try await store.containsItem("k", options: second) == false)
            #expect(try await store.allKeys(options: second) == [])

            try await store.setItem("k", "second", options: second)
            for _ in 0..<2 {
                #expect(utf8Bytes(try await store.getItem("k", options: first)) == Array("first".utf8))
                #expect(utf8Bytes(try await store.getItem("k", options: second)) == Array("second".utf8))
            }
            try await store.deleteItem("k", options: second)
            #expect(try await store.getItem("k", options: second) == nil)
            #expect(utf8Bytes(try await store.getItem("k", options: first)) == Array("first".utf8))
        }
    }

    @Test(arguments: BackendKind.allCases)
    func canonicallyEquivalentApplicationsAndGroupsAreTwoNamespaces(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let first = fixture.store(Self.precomposed), second = fixture.store(Self.decomposed)
            try await first.setItem("k", "first")
            _ = try await first.getItem("k")
            #expect(utf8Bytes(try await first.getItem("k")) == Array("first".utf8))
            #expect(try await second.getItem("k") == nil)
            #expect(try await second.containsItem("k") == false)
            #expect(try await second.allKeys() == [])

            let groupName = fixture.accessGroup(Self.precomposed)
            let group = SecureStoreOptions(accessGroup: groupName)
            let lookAlike = SecureStoreOptions(accessGroup: String(groupName.dropLast()) + "e\u{301}")
            #expect(lookAlike.accessGroup == group.accessGroup && !lookAlike.accessGroup!.isExactly(groupName))
            _ = fixture.accessGroup(Self.decomposed)
            try await first.setItem("g", "group", options: group)
            _ = try await first.getItem("g", options: group)
            #expect(utf8Bytes(try await first.getItem("g", options: group)) == Array("group".utf8))
            #expect(try await first.getItem("g", options: lookAlike) == nil)
            #expect(try await first.allKeys(options: lookAlike) == [])
            try await first.deleteAll(options: lookAlike)
            #expect(utf8Bytes(try await first.getItem("g", options: group)) == Array("group".utf8))
        }
    }
}

/// A value's bytes, for comparing exactly (`==` on strings is canonical equivalence).
func utf8Bytes(_ value: String?) -> [UInt8]? { value.map { Array($0.utf8) } }
