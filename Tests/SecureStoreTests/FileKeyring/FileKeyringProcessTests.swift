import Foundation
import Synchronization
import Testing
@_spi(SecureStoreInternal) @testable import SecureStore

/// The file keyring shared by several processes, and by libsecret: nothing acknowledged is
/// lost, nothing stale is served, and every change is heard.
@Suite("File keyring: processes", TestSelection(), .tags(.processes))
struct FileKeyringProcessTests {
    /// Four processes each store 25 keys at once: every write succeeds and every one is there
    /// afterwards (libsecret's file backend failed about half and lost a tenth of the rest).
    @Test func manyProcessesWritingAtOnceLoseNothing() async throws {
        let place = FileKeyringPlace()
        let outcomes = try await withThrowingTaskGroup(of: [Subprocess.Outcome].self) { group in
            for process in 0..<4 {
                group.addTask {
                    // One shell per writer process, 25 `securestore set` in a row.
                    let script = (0..<25).map { "printf 'v\(process)-\($0)' | \"$0\" set k\(process)-\($0) --app app --keyring-file \"$1\" --password-file \"$2\" --timeout 600 || echo \"failed k\(process)-\($0) $?\"" }
                        .joined(separator: "\n")
                    return [try await Subprocess.run(["sh", "-c", script, Subprocess.securestore, place.keyring, place.passwordFile])]
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        for outcome in outcomes {
            #expect(outcome.status == 0 && !outcome.standardOutput.contains("failed"), "\(outcome.standardOutput)\(outcome.standardError)")
        }
        let store = try place.store()
        #expect(try await store.allKeys().count == 100)
        for process in 0..<4 {
            for index in 0..<25 {
                #expect(try await store.getItem("k\(process)-\(index)") == "v\(process)-\(index)")
            }
        }
    }

    /// A process that keeps its store sees another process's overwrite and delete at its next
    /// read, and its next write is not refused.
    @Test func aLongRunningProcessSeesAnotherProcesssOverwriteAndDelete() async throws {
        let place = FileKeyringPlace()
        let store = try place.store()
        try await store.setItem("shared", "one")
        #expect(try await store.getItem("shared") == "one")
        #expect(try await place.command(["set", "shared"], input: "two").status == 0)
        #expect(try await store.getItem("shared") == "two")
        #expect(try await place.command(["delete", "shared"]).status == 0)
        #expect(try await store.getItem("shared") == nil)
        try await store.setItem("after", "fine")
        #expect(try await place.command(["get", "after"]).standardOutput == "fine\n")
    }

    /// A write from a process whose copy of the file is stale applies to the latest file: an
    /// item another process deleted meanwhile stays deleted.
    @Test func aStaleProcessNeverBringsBackADeletedItem() async throws {
        let place = FileKeyringPlace()
        let store = try place.store()
        try await store.setItem("doomed", "x")
        #expect(try await store.getItem("doomed") == "x")
        #expect(try await place.command(["delete", "doomed"]).status == 0)
        try await store.setItem("other", "y")
        #expect(try await place.command(["exists", "doomed"]).status == 1)
        #expect(try await place.command(["get", "other"]).standardOutput == "y\n")
    }

    /// A stream in one process hears another process's writes and deletes.
    @Test func aWatchHearsAnotherProcesssWrites() async throws {
        let place = FileKeyringPlace()
        let stream = try await place.store().changes()
        let seen = Mutex<[SecureStoreChange]>([])
        let consumer = Task { for await change in stream { seen.withLock { $0.append(change) } } }
        defer { consumer.cancel() }
        #expect(try await place.command(["set", "k"], input: "1").status == 0)
        #expect(try await place.command(["set", "k"], input: "2").status == 0)
        #expect(try await place.command(["delete", "k"]).status == 0)
        for _ in 0..<2400 where !seen.withLock({ $0.contains(.removed(key: "k")) }) {
            try await Task.sleep(for: .milliseconds(25))
        }
        let changes = seen.withLock { $0 }
        #expect(changes.first == .added(key: "k") && changes.last == .removed(key: "k"), "\(changes)")
        #expect(Set(changes).isSubset(of: [.added(key: "k"), .changed(key: "k"), .removed(key: "k")]), "\(changes)")
    }

    /// A writer killed at any step of its write leaves the previous file or the new one, whole:
    /// the key reads the old value before the rename and the new one after, the next write
    /// works, and the killed writer's temporary file is gone after it.
    @Test(arguments: KeyringFile.WriteStep.allCases)
    func aWriterKilledAtAnyStepLeavesAWholeFile(step: KeyringFile.WriteStep) async throws {
        let place = FileKeyringPlace()
        let store = try place.store("killed")
        try await store.setItem("k", "old")
        let outcome = try await Subprocess.run([Subprocess.probe, "file-write-killed", "--step", step.rawValue,
                                                "--keyring", place.keyring, "--password-file", place.passwordFile, "--timeout", "600"])
        #expect(outcome.status == 128 + SIGKILL, "\(outcome.standardOutput)\(outcome.standardError)")
        let expected = [.temporaryWritten, .temporarySynced].contains(step) ? "old" : "new"
        #expect(try await store.getItem("k") == expected)
        try await store.setItem("k", "after")
        #expect(try await store.getItem("k") == "after")
        let folder = (place.keyring as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

/// The file keyring and libsecret's file backend read each other's items.
@Suite("File keyring: libsecret", TestSelection(), .tags(.keyring))
struct FileKeyringLibsecretTests {
    /// libsecret (`secret-tool` on its file backend) reads what SecureStore wrote, with the
    /// attributes and label it gives items; and its own overwrite and delete of them are seen.
    @Test func libsecretReadsOursAndChangesThem() async throws {
        let place = FileKeyringPlace()
        let store = try place.store()
        try await store.setItem("token", "from SecureStore", options: SecureStoreOptions(keychainService: "api"))
        let attributes = ["xdg:schema", SecretServiceBackend.schemaName, "application", "app", "service", "api", "key", "token", "synchronizable", "false"]
        var lookup = try await place.secretTool(["lookup"] + attributes)
        #expect(lookup.status == 0 && lookup.standardOutput == "from SecureStore", "\(lookup.standardError)")
        let stored = try await place.secretTool(["store", "--label", "app / api / token [AFTER_FIRST_UNLOCK]"] + attributes, input: "from libsecret")
        #expect(stored.status == 0, "\(stored.standardError)")
        #expect(try await store.getItem("token", options: SecureStoreOptions(keychainService: "api")) == "from libsecret")
        // libsecret replaced our item rather than adding one: its attribute order is ours.
        let records = try await place.backend().records(service: "api", key: "token")
        #expect(records.count == 1 && records.first?.accessible == .afterFirstUnlock, "\(records)")
        #expect(try await place.secretTool(["clear"] + attributes).status == 0)
        #expect(try await store.getItem("token", options: SecureStoreOptions(keychainService: "api")) == nil)
        lookup = try await place.secretTool(["lookup"] + attributes)
        #expect(lookup.standardOutput.isEmpty)
    }

    /// A keyring libsecret made (as an app's sandbox keyring is today) reads back unchanged,
    /// and SecureStore's first write removes libsecret's backup of old secrets (`PATH~`).
    @Test func aKeyringLibsecretMadeReadsBackAndLosesItsBackup() async throws {
        let place = FileKeyringPlace(prefilled: false)
        try FileManager.default.createDirectory(atPath: (place.keyring as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let attributes = ["xdg:schema", SecretServiceBackend.schemaName, "application", "app", "service", "app", "key", "old", "synchronizable", "false"]
        #expect(try await place.secretTool(["store", "--label", "app / app / old [WHEN_UNLOCKED]"] + attributes, input: "first").status == 0)
        #expect(try await place.secretTool(["store", "--label", "app / app / old [WHEN_UNLOCKED]"] + attributes, input: "kept").status == 0)
        let store = try place.store()
        #expect(try await store.getItem("old") == "kept")
        #expect(try await store.allKeys() == ["old"])
        _ = FileManager.default.createFile(atPath: place.keyring + "~", contents: Data("stale".utf8))
        try await store.setItem("new", "value")
        #expect(!FileManager.default.fileExists(atPath: place.keyring + "~"))
        #expect(try await store.getItem("old") == "kept")
        #expect(try await place.secretTool(["lookup"] + attributes).standardOutput == "kept")
    }
}
