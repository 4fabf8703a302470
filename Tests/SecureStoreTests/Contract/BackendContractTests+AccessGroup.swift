import Foundation
import Testing
@testable import SecureStore

/// Expo's `accessGroup`: a namespace shared by the applications that name it.
extension BackendContractTests {
    @Test(arguments: BackendKind.allCases)
    func applicationsSharingAnAccessGroupSeeOneItemAndNoOneElseDoes(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let group = SecureStoreOptions(accessGroup: fixture.accessGroup("shared"))
            let first = fixture.store("first"), second = fixture.store("second"), outsider = fixture.store("outsider")

            try await first.setItem("token", "from first", options: group)
            #expect(try await second.getItem("token", options: group) == "from first")
            try await second.setItem("token", "from second", options: group)
            #expect(try await first.getItem("token", options: group) == "from second")
            #expect(try await fixture.records(accessGroup: group.accessGroup, key: "token").count == 1, "one item, shared")

            // Without the group, or with another, nothing of it is visible: not even to its writers.
            let otherGroup = SecureStoreOptions(accessGroup: fixture.accessGroup("other"))
            for store in [first, second, outsider] {
                #expect(try await store.getItem("token") == nil)
                #expect(try await store.containsItem("token") == false)
                #expect(try await store.allKeys() == [])
                #expect(try await store.getItem("token", options: otherGroup) == nil)
                #expect(try await store.allKeys(options: otherGroup) == [])
            }
            try await outsider.deleteAll()
            try await outsider.deleteItem("token")
            #expect(try await first.getItem("token", options: group) == "from second")
        }
    }

    @Test(arguments: BackendKind.allCases)
    func anAccessGroupAndTheApplicationsOwnItemsAreApart(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let group = SecureStoreOptions(accessGroup: fixture.accessGroup("shared"))
            let store = fixture.store()
            try await store.setItem("token", "own", options: SecureStoreOptions())
            try await store.setItem("token", "group's", options: group)
            try await store.setItem("onlyInGroup", "group's", options: group)
            #expect(try await store.getItem("token") == "own")
            #expect(try await store.getItem("token", options: group) == "group's")
            #expect(try await store.allKeys(options: group) == ["onlyInGroup", "token"])
            #expect(try await store.allKeys() == ["token"])

            try await store.deleteAll(options: group)
            #expect(try await store.allKeys(options: group) == [])
            #expect(try await store.getItem("token") == "own", "deleteAll of a group touches only the group")
            try await store.setItem("token", "group's again", options: group)
            try await store.deleteItem("token")
            #expect(try await store.getItem("token", options: group) == "group's again")
        }
    }

    @Test(arguments: BackendKind.allCases)
    func emptyAccessGroupsAndControlCharactersAreInvalidOptions(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for group in ["", "a\u{0}b", "group\n", "\u{1B}group"] {
                let options = SecureStoreOptions(accessGroup: group)
                #expect(await secureStoreError { try await store.setItem("k", "v", options: options) }?.code == .invalidOptions)
                #expect(await secureStoreError { _ = try await store.getItem("k", options: options) }?.code == .invalidOptions)
                #expect(await secureStoreError { _ = try await store.allKeys(options: options) }?.code == .invalidOptions)
            }
        }
    }
}
