import Testing
@testable import SecureStore

/// Moving items between two backends (the sandbox's move-in): never when the two are one store.
@Suite("Moving items", TestSelection())
struct ItemMoveTests {
    static func move(_ source: InMemoryBackend, to destination: InMemoryBackend) -> ItemMove {
        ItemMove(source: source, destination: destination) { group in
            source.keyring.records.filter { group == nil ? $0.application == source.applicationID : $0.accessGroup == group }
        }
    }

    @Test func twoStoresThatAreOneMoveNothingAndLoseNothing() async throws {
        let keyring = InMemoryBackend.Keyring()
        let source = InMemoryBackend(applicationID: "mover", keyring: keyring)
        let sameStore = InMemoryBackend(applicationID: "mover", keyring: keyring)
        try await SecureStore(backend: source).setItem("only", "the only copy")
        let error = await secureStoreError { _ = try await Self.move(source, to: sameStore).run(accessGroups: [], afterCopying: nil) }
        #expect(error?.code == .keyChain)
        #expect(error?.message.contains("one store") == true)
        #expect(utf8Bytes(try await SecureStore(backend: source).getItem("only")) == Array("the only copy".utf8))
        #expect(keyring.records.map(\.key) == ["only"], "no canary left behind")
    }

    @Test func twoDistinctStoresMoveEveryItemOnce() async throws {
        let source = InMemoryBackend(applicationID: "mover"), destination = InMemoryBackend(applicationID: "mover")
        try await SecureStore(backend: source).setItem("a", "1")
        try await SecureStore(backend: source).setItem("b", "2", options: SecureStoreOptions(keychainService: "other"))
        let report = try await Self.move(source, to: destination).run(accessGroups: [], afterCopying: nil)
        #expect(report == SandboxMoveReport(moved: 2, alreadyInSandbox: 0))
        #expect(source.keyring.records.isEmpty)
        #expect(try await SecureStore(backend: destination).getItem("a") == "1")
        #expect(try await SecureStore(backend: destination).getItem("b", options: SecureStoreOptions(keychainService: "other")) == "2")
        #expect(destination.keyring.records.count == 2, "no canary left behind")
    }
}
