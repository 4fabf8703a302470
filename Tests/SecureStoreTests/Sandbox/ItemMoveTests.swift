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

    /// A key that several host items answer for (an overwrite cut short elsewhere, or another
    /// program's `mail\n`, which KeePassXC's search finds for `mail`) is neither copied nor
    /// deleted: a read would give one of them, a delete remove them all.
    @Test(arguments: [
        ItemRecord(application: "mover", accessGroup: nil, service: "mail\n", key: "k", accessible: .whenUnlocked, isSynchronizable: false),
        ItemRecord(application: "mover", accessGroup: nil, service: "mail", key: "k", accessible: .always, isSynchronizable: false),
    ])
    func aKeySeveralHostItemsAnswerForStaysOnTheHost(other: ItemRecord) async throws {
        let source = InMemoryBackend(applicationID: "mover"), destination = InMemoryBackend(applicationID: "mover")
        let mail = SecureStoreOptions(keychainService: "mail")
        try await SecureStore(backend: source).setItem("k", "the real one", options: mail)
        try await SecureStore(backend: source).setItem("single", "moves")
        let move = ItemMove(source: source, destination: destination) { group in
            group == nil ? source.keyring.records.filter { $0.application == "mover" } + [other] : []
        }
        let report = try await move.run(accessGroups: [], afterCopying: nil)
        #expect(report == SandboxMoveReport(moved: 1, alreadyInSandbox: 0, leftOnHost: 1))
        #expect(try await SecureStore(backend: source).getItem("k", options: mail) == "the real one")
        #expect(try await SecureStore(backend: destination).getItem("k", options: mail) == nil)
        #expect(try await SecureStore(backend: destination).getItem("single") == "moves")
    }

    /// Application IDs are compared as bytes: "café" spelt two ways is two applications.
    @Test func aBackendOfAnotherSpellingOfTheApplicationIsRefused() async throws {
        #if canImport(CLibSecret)
        let host = try SecretServiceBackend(applicationID: "caf\u{E9}")
        let sandbox = try SandboxKeyringBackend(applicationID: "cafe\u{301}")
        let error = await secureStoreError { _ = try await sandbox.moveItems(from: host) }
        #expect(error?.code == .invalidOptions)
        #endif
    }
}
