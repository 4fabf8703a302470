import Foundation
import Testing
@testable import SecureStore

/// The behaviour every backend promises (SecureStoreBackend's contract), written once and run
/// against each backend.
@Suite("Backend contract", TestSelection(), .tags(.everyProvider, .sandbox, .headless))
struct BackendContractTests {
    static let invalidKeys = [
        "", " ", "a b", "a/b", "a:b", "a\\b", "key!", "é", "ключ", "鍵", "🔑", "a\u{0}b", "tab\t",
        "new\nline", "١٢٣", "Ａ", "a+b", "a@b", "\u{301}", "a\u{200B}b",
    ]
    static let validKeys = ["a", "Z", "0", ".", "-", "_", "A.b-c_9", "...", "user.token-2_x"]

    @Test(arguments: BackendKind.allCases)
    func invalidKeysAreRejectedByEveryOperationBeforeTheBackend(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for key in Self.invalidKeys {
                for operation in ["set", "get", "delete", "contains"] {
                    let error = await secureStoreError {
                        switch operation {
                        case "set": try await store.setItem(key, "value")
                        case "get": _ = try await store.getItem(key)
                        case "delete": try await store.deleteItem(key)
                        default: _ = try await store.containsItem(key)
                        }
                    }
                    #expect(error?.code == .invalidKey, "\(operation) \(key.debugDescription)")
                    #expect(error?.message == "Invalid key provided to SecureStore. Keys must not be empty and contain only alphanumeric characters, \".\", \"-\", and \"_\".")
                }
            }
            #expect(try await store.allKeys().isEmpty)
        }
    }

    @Test(arguments: BackendKind.allCases)
    func validKeysRoundTrip(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for key in Self.validKeys {
                try await store.setItem(key, "value of \(key)")
            }
            for key in Self.validKeys {
                #expect(try await store.getItem(key) == "value of \(key)")
            }
            #expect(try await store.allKeys() == Self.validKeys.sorted())
        }
    }

    static let values = [
        "", "plain", "héllo wörld 日本語 🔐", "a\u{0}b\u{0}", "\u{0}", "line1\r\nline2\nline3\r",
        "e\u{301} vs \u{E9}", "\u{FEFF}bom", "\u{10FFFF}\u{E000}\u{7F}", String(repeating: "ß", count: 5000),
        "  padded  ", "\"quotes\" and 'apostrophes' and \\backslashes\\",
    ]

    @Test(arguments: BackendKind.allCases)
    func valuesRoundTripByteForByte(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for (index, value) in Self.values.enumerated() {
                try await store.setItem("value\(index)", value)
            }
            for (index, value) in Self.values.enumerated() {
                let read = try await store.getItem("value\(index)")
                #expect(read.map { Array($0.utf8) } == Array(value.utf8), "value \(index)")
            }
        }
    }

    @Test(arguments: BackendKind.allCases)
    func valuesUpToTheMaximumRoundTripAndLargerOnesAreRejected(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            // 1 MiB exactly, in 4-byte scalars so byte counting, not character counting, is checked.
            let largest = String(repeating: "🔐", count: SecureStore.maximumValueSize / 4)
            #expect(largest.utf8.count == SecureStore.maximumValueSize)
            try await store.setItem("large", largest)
            #expect(try await store.getItem("large") == largest)

            let tooLarge = largest + "x"
            let error = await secureStoreError { try await store.setItem("large", tooLarge) }
            #expect(error?.code == .valueTooLarge)
            #expect(try await store.getItem("large") == largest, "a rejected write loses nothing")
            let another = await secureStoreError { try await store.setItem("other", tooLarge) }
            #expect(another?.code == .valueTooLarge)
            #expect(try await store.containsItem("other") == false)
        }
    }

    @Test(arguments: BackendKind.allCases)
    func missingKeysReadNilAndDeleteSucceeds(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            #expect(try await store.getItem("missing") == nil)
            #expect(try await store.containsItem("missing") == false)
            try await store.deleteItem("missing")
            try await store.setItem("present", "v")
            try await store.deleteItem("present")
            #expect(try await store.getItem("present") == nil)
            try await store.deleteItem("present")
            try await store.deleteAll()
            #expect(try await store.allKeys() == [])
        }
    }

    @Test(arguments: BackendKind.allCases)
    func servicesIsolateItems(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let a = SecureStoreOptions(keychainService: "A")
            let b = SecureStoreOptions(keychainService: "B")
            try await store.setItem("shared", "in A", options: a)
            try await store.setItem("onlyA", "in A", options: a)

            #expect(try await store.getItem("shared", options: b) == nil)
            #expect(try await store.getItem("shared") == nil, "the default service is another service")
            #expect(try await store.containsItem("shared", options: b) == false)
            #expect(try await store.allKeys(options: b) == [])
            #expect(try await store.allKeys() == [])

            try await store.setItem("shared", "in B", options: b)
            try await store.setItem("shared", "in default")
            try await store.deleteAll(options: b)
            try await store.deleteItem("onlyA")
            #expect(try await store.getItem("shared", options: a) == "in A")
            #expect(try await store.getItem("onlyA", options: a) == "in A")
            #expect(try await store.getItem("shared") == "in default")
            #expect(try await store.allKeys(options: a) == ["onlyA", "shared"])
            #expect(try await store.getItem("shared", options: SecureStoreOptions(keychainService: "app")) == "in default",
                    "the default service is \"app\"")
        }
    }

    @Test(arguments: BackendKind.allCases)
    func applicationsIsolateItems(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let first = fixture.store("first")
            let second = fixture.store("second")
            try await first.setItem("token", "first's")
            #expect(try await second.getItem("token") == nil)
            #expect(try await second.containsItem("token") == false)
            #expect(try await second.allKeys() == [])
            try await second.deleteItem("token")
            try await second.deleteAll()
            #expect(try await first.getItem("token") == "first's")
            try await second.setItem("token", "second's")
            #expect(try await first.getItem("token") == "first's")
            #expect(try await second.getItem("token") == "second's")
        }
    }

    @Test(arguments: BackendKind.allCases)
    func overwriteReplacesValueAndAccessibilityLeavingOneItem(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            try await store.setItem("k", "one", options: SecureStoreOptions(keychainAccessible: .always))
            try await store.setItem("k", "two", options: SecureStoreOptions(keychainAccessible: .whenUnlockedThisDeviceOnly))
            #expect(try await store.getItem("k") == "two")
            var records = try await fixture.records(key: "k")
            #expect(records.map(\.accessible) == [.whenUnlockedThisDeviceOnly])

            try await store.setItem("k", "three")
            records = try await fixture.records(key: "k")
            #expect(records.map(\.accessible) == [.whenUnlocked])
            #expect(try await store.getItem("k") == "three")
        }
    }

    @Test(arguments: BackendKind.allCases)
    func synchronizableSelectsItems(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let no = SecureStoreOptions(synchronizable: .no)
            let yes = SecureStoreOptions(synchronizable: .yes)
            let any = SecureStoreOptions(synchronizable: .any)

            try await store.setItem("synced", "cloud", options: yes)
            #expect(try await store.getItem("synced") == nil, ".no (default) does not see synchronizable items")
            #expect(try await store.containsItem("synced") == false)
            #expect(try await store.allKeys() == [])
            try await store.deleteItem("synced")
            try await store.deleteAll(options: no)
            #expect(try await store.getItem("synced", options: yes) == "cloud", ".no neither returns nor touches them")
            #expect(try await store.getItem("synced", options: any) == "cloud")

            try await store.setItem("local", "here")
            #expect(try await store.getItem("local", options: yes) == nil)
            #expect(try await store.allKeys(options: yes) == ["synced"])
            #expect(try await store.allKeys(options: any) == ["local", "synced"])

            // Both kinds under one key: two items; .any prefers the local one and deletes both.
            try await store.setItem("both", "local value", options: no)
            try await store.setItem("both", "synced value", options: yes)
            #expect(try await store.getItem("both", options: no) == "local value")
            #expect(try await store.getItem("both", options: yes) == "synced value")
            #expect(try await store.getItem("both", options: any) == "local value")
            #expect(try await fixture.records(key: "both").count == 2)

            // A write with .any updates every existing item of the key...
            try await store.setItem("both", "updated", options: any)
            #expect(try await store.getItem("both", options: no) == "updated")
            #expect(try await store.getItem("both", options: yes) == "updated")
            #expect(try await fixture.records(key: "both").count == 2)
            // ...or creates a non-synchronizable one.
            try await store.setItem("fresh", "v", options: any)
            #expect(try await fixture.records(key: "fresh").map(\.isSynchronizable) == [false])

            try await store.deleteItem("both", options: any)
            #expect(try await store.containsItem("both", options: any) == false)
            try await store.deleteAll(options: yes)
            #expect(try await store.allKeys(options: any) == ["fresh", "local"])
        }
    }

    @Test(arguments: BackendKind.allCases)
    func synchronizableThisDeviceOnlyWritesAreInvalid(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for accessible in KeychainAccessible.allCases {
                for synchronizable in [Synchronizable.yes, .any] {
                    let options = SecureStoreOptions(keychainAccessible: accessible, synchronizable: synchronizable)
                    let key = "k\(accessible.rawValue)"
                    if accessible.isThisDeviceOnly {
                        let error = await secureStoreError { try await store.setItem(key, "v", options: options) }
                        #expect(error?.code == .invalidOptions)
                        // Reads with the same options are fine: the rule is about writing.
                        #expect(try await store.getItem(key, options: options) == nil)
                    } else {
                        try await store.setItem(key, "v", options: options)
                        #expect(try await store.getItem(key, options: options) == "v")
                    }
                }
                try await store.setItem("local", "v", options: SecureStoreOptions(keychainAccessible: accessible))
            }
            let synchronizable = try await store.allKeys(options: SecureStoreOptions(synchronizable: .yes))
            #expect(synchronizable == KeychainAccessible.allCases.filter { !$0.isThisDeviceOnly }.map { "k\($0.rawValue)" }.sorted())
        }
    }

    @Test(arguments: BackendKind.allCases)
    func requireAuthenticationIsUnsupported(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            #expect(store.canUseBiometricAuthentication() == false)
            let options = SecureStoreOptions(requireAuthentication: true, authenticationPrompt: "Unlock your token")
            let failures: [SecureStoreError?] = [
                await secureStoreError { try await store.setItem("k", "v", options: options) },
                await secureStoreError { _ = try await store.getItem("k", options: options) },
                await secureStoreError { try await store.deleteItem("k", options: options) },
                await secureStoreError { _ = try await store.containsItem("k", options: options) },
                await secureStoreError { _ = try await store.allKeys(options: options) },
                await secureStoreError { try await store.deleteAll(options: options) },
            ]
            #expect(failures.map { $0?.code } == Array(repeating: .authenticationUnsupported, count: failures.count))
            #expect(try await store.containsItem("k") == false)
        }
    }

    @Test(arguments: BackendKind.allCases)
    func badOptionStringsAreInvalidOptions(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            // Names a provider would not keep apart: KeePassXC's search for "mail" finds
            // "mail\n"'s items, and KWallet stores "\u{FEFF}mail" as "mail".
            let badServices = ["", "a\u{0}b", "mail\n", "mail\r", "tab\tbed", "del\u{7F}", "\u{FEFF}mail"]
            for options in badServices.map({ SecureStoreOptions(keychainService: $0) }) + [SecureStoreOptions(authenticationPrompt: "nul\u{0}")] {
                let error = await secureStoreError { try await store.setItem("k", "v", options: options) }
                #expect(error?.code == .invalidOptions)
            }
            #expect(try await store.allKeys() == [])
        }
    }

    @Test(arguments: BackendKind.allCases)
    func concurrentTasksLoseNothingAndDuplicateNothing(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let sharedKeys = ["shared0", "shared1", "shared2", "shared3"]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        let shared = sharedKeys[task % sharedKeys.count]
                        let accessible = KeychainAccessible.allCases[task % KeychainAccessible.allCases.count]
                        try await store.setItem(shared, "written by \(task)", options: SecureStoreOptions(keychainAccessible: accessible))
                        try await store.setItem("own\(task)", "value \(task)")
                        let read = try await store.getItem(shared)
                        #expect(read?.hasPrefix("written by ") == true)
                        #expect(try await store.getItem("own\(task)") == "value \(task)")
                    }
                }
                try await group.waitForAll()
            }
            for key in sharedKeys {
                #expect(try await fixture.records(key: key).count == 1, "exactly one item for \(key)")
            }
            for task in 0..<64 {
                #expect(try await store.getItem("own\(task)") == "value \(task)")
            }
            #expect(try await store.allKeys().count == 64 + sharedKeys.count)
        }
    }

    @Test(arguments: BackendKind.allCases)
    func errorsNeverContainTheValue(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let secret = "SECRET-\(UUID().uuidString)"
            let huge = String(repeating: secret, count: SecureStore.maximumValueSize / secret.utf8.count + 1)
            let errors: [SecureStoreError?] = [
                await secureStoreError { try await store.setItem("bad key", secret) },
                await secureStoreError { try await store.setItem("k", huge) },
                await secureStoreError { try await store.setItem("k", secret, options: SecureStoreOptions(requireAuthentication: true)) },
                await secureStoreError { try await store.setItem("k", secret, options: SecureStoreOptions(keychainAccessible: .alwaysThisDeviceOnly, synchronizable: .yes)) },
            ]
            #expect(errors.allSatisfy { $0 != nil })
            for case let error? in errors {
                for text in [error.description, error.message, String(reflecting: error), "\(error)", error.localizedDescription] {
                    #expect(!text.contains(secret))
                }
            }
        }
    }

    @Test(arguments: BackendKind.allCases)
    func isAvailableAndBlockingVariants(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            #expect(await store.isAvailable())
            // The blocking calls are for code that cannot await: call them from a plain thread.
            let results: (String?, String?, SecureStoreError?) = try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    do {
                        try store.setItemSync("blocking", "value")
                        let read = try store.getItemSync("blocking")
                        try store.deleteItemSync("blocking")
                        let afterDelete = try store.getItemSync("blocking")
                        var invalid: SecureStoreError?
                        do { try store.setItemSync("bad key", "v") } catch { invalid = error as? SecureStoreError }
                        continuation.resume(returning: (read, afterDelete, invalid))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
            #expect(results.0 == "value")
            #expect(results.1 == nil)
            #expect(results.2?.code == .invalidKey)
        }
    }
}
