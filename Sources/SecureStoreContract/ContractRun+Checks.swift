import SecureStore

// The checks. Their messages say what differed, never a value.
extension ContractRun {
    func valuesRoundTripByteForByte() async throws {
        let store = try await store()
        let values: [(String, [UInt8])] = [
            ("empty", []), ("nul", [0]), ("every-byte", Array(0...255)), ("not-utf8", [0xFF, 0xFE, 0x80, 0xC3]),
            ("large", (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
        ]
        for (key, value) in values {
            try await store.setBytes(key, value, options: options(of: store))
            let read = try await store.getBytes(key)
            try expect(read == value, "'\(key)' (\(value.count) bytes) read back as \(read.map { "other \($0.count) bytes" } ?? "nil")")
        }
        try await store.setItem("text", "pässwörd 🔑", options: options(of: store))
        try expect(try await store.getBytes("text") == Array("pässwörd 🔑".utf8), "a string did not read back as its UTF-8 bytes")
        try expect(try await store.getItem("text") == "pässwörd 🔑", "a string did not read back as the same string")
    }

    func missingKeysReadNilAndDeleteSucceeds() async throws {
        let store = try await store()
        try expect(try await store.getBytes("missing") == nil, "a missing key did not read nil")
        try expect(try await !store.containsItem("missing"), "a missing key is contained")
        try await store.deleteItem("missing")
        try await store.setItem("k", "v", options: options(of: store))
        try await store.deleteItem("k")
        try expect(try await store.getBytes("k") == nil, "a deleted key did not read nil")
        try expect(try await store.allKeys() == [], "a deleted key is still listed")
    }

    func overwriteReplacesTheValueAndLeavesOneKey() async throws {
        let store = try await store()
        try await store.setItem("k", "first", options: options(SecureStoreOptions(keychainAccessible: .whenUnlocked), of: store))
        try await store.setItem("k", "second", options: options(SecureStoreOptions(keychainAccessible: .afterFirstUnlock), of: store))
        try expect(try await store.getItem("k") == "second", "an overwrite with another accessibility did not read back as the new value")
        try await store.setItem("k", "third", options: options(SecureStoreOptions(keychainAccessible: .afterFirstUnlock), of: store))
        try expect(try await store.getItem("k") == "third", "an overwrite did not read back as the new value")
        try expect(try await store.allKeys() == ["k"], "an overwritten key is not listed exactly once")
    }

    func servicesIsolateItems() async throws {
        let store = try await store()
        let a = SecureStoreOptions(keychainService: "a"), b = SecureStoreOptions(keychainService: "b")
        try await store.setItem("k", "in a", options: options(a, of: store))
        try await store.setItem("k", "in b", options: options(b, of: store))
        try await store.setItem("only-a", "x", options: options(a, of: store))
        let inA = try await store.getItem("k", options: a), inB = try await store.getItem("k", options: b)
        try expect(inA == "in a" && inB == "in b", "one key in two services is not two items")
        try expect(try await store.allKeys(options: b) == ["k"], "allKeys lists another service's keys")
        try await store.deleteAll(options: a)
        try expect(try await store.allKeys(options: a) == [], "deleteAll left items of its service")
        try expect(try await store.getItem("k", options: b) == "in b", "deleteAll removed another service's item")
    }

    func applicationsIsolateItems() async throws {
        let one = try await store("one"), two = try await store("two")
        try await one.setItem("k", "of one", options: options(of: one))
        let seen = try await two.getItem("k"), contained = try await two.containsItem("k")
        try expect(seen == nil && !contained, "an application sees another's item")
        try await two.setItem("k", "of two", options: options(of: two))
        try expect(try await one.getItem("k") == "of one", "an application's write changed another's item")
        try await two.deleteAll()
        try expect(try await one.allKeys() == ["k"], "an application's deleteAll removed another's item")
    }

    func accessGroupsAreSharedAndApartFromTheApplication() async throws {
        let one = try await store("one"), two = try await store("two")
        let group = SecureStoreOptions(accessGroup: "\(applicationPrefix).group")
        try await one.setItem("k", "shared", options: options(group, of: one))
        try expect(try await two.getItem("k", options: group) == "shared", "another application naming the group does not see its item")
        try expect(try await one.getItem("k") == nil, "the group's item is among the application's own")
        try await one.setItem("k", "own", options: options(of: one))
        try expect(try await two.getItem("k", options: group) == "shared", "an application's own write changed the group's item")
    }

    func synchronizableSelectsItems() async throws {
        let store = try await store()
        let no = SecureStoreOptions(synchronizable: .no), yes = SecureStoreOptions(synchronizable: .yes)
        let any = SecureStoreOptions(synchronizable: .any)
        try await store.setItem("k", "synchronized", options: options(yes, of: store))
        try expect(try await store.getItem("k", options: no) == nil, "synchronizable: .no reads a synchronizable item")
        try expect(try await store.getItem("k", options: any) == "synchronized", "synchronizable: .any misses a synchronizable item")
        try await store.setItem("k", "local", options: options(no, of: store))
        let synchronized = try await store.getItem("k", options: yes), local = try await store.getItem("k", options: no)
        try expect(synchronized == "synchronized" && local == "local", "the two synchronizable states of a key are not two items")
        try expect(try await store.getItem("k", options: any) == "local", "synchronizable: .any does not prefer the non-synchronizable item")
        try await store.deleteItem("k", options: any)
        try expect(try await !store.containsItem("k", options: any), "deleteItem with synchronizable: .any left an item")
    }

    func allKeysAreSortedAndEachOnce() async throws {
        let store = try await store()
        for key in ["b", "a", "c.2", "c.10", "A", "b"] {
            try await store.setItem(key, "v", options: options(of: store))
        }
        try expect(try await store.allKeys() == ["A", "a", "b", "c.10", "c.2"], "allKeys is not each key once, sorted")
    }

    func namesAreTheirBytes() async throws {
        let store = try await store()
        let composed = SecureStoreOptions(keychainService: "caf\u{E9}"), decomposed = SecureStoreOptions(keychainService: "cafe\u{301}")
        try await store.setItem("k", "composed", options: options(composed, of: store))
        try expect(try await store.getItem("k", options: decomposed) == nil, "a canonically equivalent service reads another's item")
        try await store.setItem("k", "decomposed", options: options(decomposed, of: store))
        try expect(try await store.getItem("k", options: composed) == "composed", "a canonically equivalent service's write changed another's item")
    }

    func concurrentWritesLoseNothing() async throws {
        let store = try await store()
        let written = options(of: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<24 {
                group.addTask { try await store.setItem("key-\(index)", "value-\(index)", options: written) }
                group.addTask { try await store.setItem("shared", "writer-\(index)", options: written) }
            }
            try await group.waitForAll()
        }
        for index in 0..<24 {
            try expect(try await store.getItem("key-\(index)") == "value-\(index)", "a write among many was lost or changed (key-\(index))")
        }
        let shared = try await store.getItem("shared")
        try expect(shared.map { $0.hasPrefix("writer-") } == true, "a key many tasks overwrote holds none of their values")
        try expect(try await store.allKeys().count == 25, "many writes at once left other than one item per key")
    }
}
