import Foundation
import Testing
@testable import SecureStore

/// The Secret Service backend against a real gnome-keyring-daemon: what other Secret Service
/// clients see, and every failure path, each in the process and daemon it needs.
@Suite("Secret Service backend", TestSelection(), .tags(.keyring))
struct SecretServiceTests {
    private func backend(_ applicationID: String = "securestore-test-\(UUID().uuidString.prefix(8))") throws -> SecretServiceBackend {
        try SecretServiceBackend(applicationID: applicationID, userInteraction: .notAllowed, timeout: .seconds(20))
    }

    /// Runs `body` with a backend of a new application, and removes that application's items
    /// afterwards, whether `body` threw or not.
    private func withCleanBackend(_ body: (SecretServiceBackend) async throws -> Void) async throws {
        let backend = try backend()
        try await withCleanUp({ try await backend.deleteEverything() }) { try await body(backend) }
    }

    @Test(.tags(.everyProvider)) func secretToolFindsItemsByTheDocumentedAttributesAndLabel() async throws {
        try await withCleanBackend { backend in
            let store = SecureStore(backend: backend)
            let options = SecureStoreOptions(keychainService: "mail", keychainAccessible: .afterFirstUnlock)
            try await store.setItem("imap.password", "pa55 wörd", options: options)

            let search = try await Subprocess.secretTool([
                "search", "--all", "xdg:schema", "dev.securestore.Item", "application", backend.applicationID,
            ])
            #expect(search.status == 0, "\(search.standardError)")
            let listing = search.standardOutput + search.standardError
            #expect(listing.contains("label = \(backend.applicationID) / mail / imap.password"))
            #expect(listing.contains("attribute.service = mail"))
            #expect(listing.contains("attribute.key = imap.password"))
            #expect(listing.contains("attribute.accessible = AFTER_FIRST_UNLOCK"))
            #expect(listing.contains("attribute.synchronizable = false"))
            #expect(listing.components(separatedBy: "label = ").count == 2, "exactly one item")

            let lookup = try await Subprocess.secretToolLookup([
                "xdg:schema", "dev.securestore.Item", "application", backend.applicationID,
                "service", "mail", "key", "imap.password",
            ])
            #expect(lookup.status == 0, "\(lookup.standardError)")
            #expect(lookup.standardOutput == "pa55 wörd")
        }
    }

    @Test(.tags(.everyProvider)) func itemsWrittenBySecretToolReadBackAndOverwriteInPlace() async throws {
        try await withCleanBackend { backend in
            let store = SecureStore(backend: backend)
            let stored = try await Subprocess.storeWithSecretTool(label: "written by secret-tool", [
                "xdg:schema", "dev.securestore.Item", "application", backend.applicationID, "service", "app", "key", "token",
                "accessible", "WHEN_UNLOCKED", "synchronizable", "false",
            ], value: "from the shell")
            #expect(stored.status == 0, "\(stored.standardError)")

            #expect(try await store.getItem("token") == "from the shell")
            #expect(try await store.allKeys() == ["token"])
            try await store.setItem("token", "from Swift")
            #expect(try await backend.records(service: "app", key: "token").count == 1)
            #expect(try await store.getItem("token") == "from Swift")
        }
    }

    /// An overwrite that changes the accessibility makes its new item before it deletes the old
    /// one. Cut between the two (here: the new item made by `secret-tool`, the old one left), the
    /// key's reads return the newer value whichever accessibility it has, in this process and a
    /// new one, and the key's next write leaves one item. (The Secret Service counts times in
    /// seconds: the cut write comes a second after the first, as it must to be told apart.)
    @Test(.tags(.everyProvider), arguments: [(KeychainAccessible.whenUnlocked, KeychainAccessible.afterFirstUnlock), (.afterFirstUnlock, .whenUnlocked)])
    func anOverwriteCutBetweenItsTwoItemsNeverReadsAsTheOldValue(old: KeychainAccessible, new: KeychainAccessible) async throws {
        let backend = try backend()
        let store = SecureStore(backend: backend)
        try await store.setItem("token", "old value", options: SecureStoreOptions(keychainAccessible: old))
        #expect(try await store.getItem("token") == "old value")   // a remembered path, where the provider allows
        try await Task.sleep(for: .milliseconds(1100))
        let stored = try await Subprocess.storeWithSecretTool(label: "\(backend.applicationID) / app / token", [
            "xdg:schema", "dev.securestore.Item", "application", backend.applicationID, "service", "app", "key", "token",
            "accessible", new.expoName, "synchronizable", "false",
        ], value: "new value")
        #expect(stored.status == 0, "\(stored.standardError)")
        #expect(try await backend.records(service: "app", key: "token").count == 2)
        #expect(try await store.getItem("token") == "new value")
        let command = try await Subprocess.run([Subprocess.securestore, "get", "token", "--app", backend.applicationID])
        #expect(command.standardOutput == "new value\n", "\(command.standardError)")
        try await store.setItem("token", "newest", options: SecureStoreOptions(keychainAccessible: old))
        let records = try await backend.records(service: "app", key: "token")
        #expect(records.count == 1 && records.first?.accessible == old, "\(records)")
        #expect(try await store.getItem("token") == "newest")
        try await backend.deleteEverything()
    }

    /// Another program's item without a `synchronizable` attribute: every `.any` call sees it
    /// (read, checked, listed, deleted), and no `.no` or `.yes` call does.
    @Test(.tags(.everyProvider)) func anItemWithoutASynchronizableAttributeIsSeenByEveryAnyCallAndNoOther() async throws {
        let backend = try backend()
        let store = SecureStore(backend: backend)
        let stored = try await Subprocess.storeWithSecretTool(label: "no synchronizable attribute", [
            "xdg:schema", "dev.securestore.Item", "application", backend.applicationID, "service", "app", "key", "bare",
        ], value: "from the shell")
        #expect(stored.status == 0, "\(stored.standardError)")
        let any = SecureStoreOptions(synchronizable: .any)
        #expect(try await store.getItem("bare", options: any) == "from the shell")
        #expect(try await store.containsItem("bare", options: any))
        #expect(try await store.allKeys(options: any) == ["bare"])
        for exact in [Synchronizable.no, .yes] {
            let options = SecureStoreOptions(synchronizable: exact)
            #expect(try await store.getItem("bare", options: options) == nil)
            #expect(try await !store.containsItem("bare", options: options))
            #expect(try await store.allKeys(options: options) == [])
        }
        try await store.deleteItem("bare", options: any)
        #expect(try await !store.containsItem("bare", options: any))
        try await backend.deleteEverything()
    }

    /// Bytes that are not UTF-8 cross to and from `secret-tool` exactly, and a string read of
    /// them is a typed error, never U+FFFD.
    @Test func bytesInteroperateWithSecretToolBothWays() async throws {
        try await withCleanBackend { backend in
            let store = SecureStore(backend: backend)
            let attributes = ["xdg:schema", "dev.securestore.Item", "application", backend.applicationID, "service", "app"]
            let stored = try await Subprocess.run(scenario: "SecretService/store-latin1", attributes + ["key", "ext", "accessible", "WHEN_UNLOCKED", "synchronizable", "false"])
            #expect(stored.status == 0, "\(stored.standardError)")
            #expect(try await store.getBytes("ext") == [0x63, 0x61, 0x66, 0xE9])
            let error = await secureStoreError { _ = try await store.getItem("ext") }
            #expect(error?.code == .valueNotUTF8)

            let bytes: [UInt8] = [0x00, 0xFF, 0xFE, 0x80, 0x0A, 0x41, 0xC3]
            try await store.setBytes("binary", bytes)
            let looked = try await Subprocess.run(scenario: "SecretService/lookup-hex", attributes + ["key", "binary"])
            #expect(looked.standardOutput == "00fffe800a41c3", "\(looked.standardError)")
        }
    }

    /// What the item is labelled with: gnome-keyring reports `text/plain` for everything, so
    /// the choice is checked where it is made.
    @Test(.tags(.everyProvider)) func stringsAreLabelledTextAndBytesOrTextProvidersWouldChangeAreLabelledBytes() {
        #expect(ItemSchema.contentType(of: Array("plain".utf8), kind: .text) == "text/plain")
        #expect(ItemSchema.contentType(of: [], kind: .text) == "text/plain")
        #expect(ItemSchema.contentType(of: Array("a\u{0}b".utf8), kind: .text) == "application/octet-stream")
        #expect(ItemSchema.contentType(of: [0x41], kind: .bytes) == "application/octet-stream")
        // Qt drops a leading byte order mark from text (KWallet, KeePassXC); elsewhere it stays text.
        #expect(ItemSchema.contentType(of: Array("\u{FEFF}bom".utf8), kind: .text) == "application/octet-stream")
        #expect(ItemSchema.contentType(of: Array("a\u{FEFF}".utf8), kind: .text) == "text/plain")
    }

    @Test(.tags(.everyProvider)) func applicationIDsWithControlCharactersAreInvalid() {
        for applicationID in ["", "app\n", "a\u{0}b", "\u{7F}"] {
            #expect(throws: SecureStoreError.self) { try SecretServiceBackend(applicationID: applicationID) }
        }
    }

    /// Each call, given 60 s, fails as unavailable (69), not as timed out (75): nothing waits.
    @Test(.tags(.everyProvider)) func noSessionBusIsServiceUnavailableFastWithoutAutolaunch() async throws {
        let unset = try await Subprocess.run(
            [Subprocess.securestore, "get", "token", "--no-interaction", "--timeout", "60"],
            environment: ["DBUS_SESSION_BUS_ADDRESS": nil, "XDG_RUNTIME_DIR": "/nonexistent", "DISPLAY": nil])
        #expect(unset.status == 69)
        #expect(unset.standardError.contains("ERR_SERVICE_UNAVAILABLE"))

        let nowhere = try await Subprocess.run(
            [Subprocess.securestore, "exists", "token", "--timeout", "60"],
            environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"])
        #expect(nowhere.status == 69)
        #expect(nowhere.standardError.contains("ERR_SERVICE_UNAVAILABLE"))

        let autolaunch = try await Subprocess.run(
            [Subprocess.securestore, "list", "--timeout", "60"], environment: ["DBUS_SESSION_BUS_ADDRESS": "autolaunch:"])
        #expect(autolaunch.status == 69)
    }

    @Test(.tags(.everyProvider)) func aBusWithoutASecretServiceIsServiceUnavailableFast() async throws {
        // A session bus that can activate nothing: no service directories. The call, given 60 s,
        // fails as unavailable (69), not as timed out (75).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("securestore-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = directory.appendingPathComponent("session.conf")
        try """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>session</type>
              <listen>unix:dir=\(directory.path)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
              </policy>
            </busconfig>
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let outcome = try await Subprocess.run([
            "dbus-run-session", "--config-file", configuration.path, "--",
            Subprocess.securestore, "get", "token", "--no-interaction", "--timeout", "60",
        ])
        #expect(outcome.status == 69, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_SERVICE_UNAVAILABLE"))
    }

    @Test func aLockedKeyringWithoutInteractionFailsFastAndLosesNothing() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "SecretService/locked-without-interaction")
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("get=77"))
        #expect(lines.contains("set-existing=77"))
        #expect(lines.contains("set-new=77"))
        #expect(lines.contains("delete=77"))
        #expect(lines.contains("clear=77"))
        #expect(lines.contains("exists=0"), "containsItem never needs an unlock")
        #expect(lines.contains("list=token"), "allKeys never needs an unlock")
        #expect(lines.contains("after-unlock=kept"))
        #expect(lines.contains("fresh-exists=1"))
        #expect(outcome.standardError.contains("ERR_INTERACTION_NOT_ALLOWED"))
        #expect(!outcome.standardError.contains("SystemPrompter"), "no dialog was asked for")
    }

    @Test func aKeyringNeverUnlockedSinceItsDaemonStartedIsLockedNotEmpty() async throws {
        // After a crash, D-Bus starts a new daemon whose keyring stays locked, and such a
        // daemon hides its items even from searches: every answer must say "locked".
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "SecretService/never-unlocked")
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        // The first call may meet no daemon at all (69); once D-Bus has started one, 77.
        #expect(lines.contains("get=77") || lines.contains("get=69"), "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(lines.contains("get-again=77"), "never 1 (not found)")
        #expect(lines.contains("exists=77"))
        #expect(lines.contains("list=77"))
        #expect(lines.contains("delete=77"))
        #expect(lines.contains("set=77"))
    }

    @Test func aPromptThatCannotBeShownIsAnErrorNotAHang() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "SecretService/no-display", environment: ["DISPLAY": nil, "WAYLAND_DISPLAY": nil])
        #expect(outcome.standardOutput.contains("get=78"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_AUTHENTICATION_CANCELED"))
    }

    @Test(.tags(.everyProvider)) func anUnresponsiveServiceTimesOut() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "SecretService/stopped-daemon")
        let get = outcome.standardOutput.firstMatch(of: /get=(\d+) (\d+)/).map { (Int($0.1)!, Int($0.2)!) }
        #expect(get?.0 == 75, "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_TIMEOUT"))
        #expect(outcome.standardOutput.contains("after=kept"))
        // Not before its 1 s timeout, and by it rather than by GDBus's own 25 s.
        #expect((900..<25_000).contains(get?.1 ?? -1), "bounded by the 1 s timeout: \(outcome.standardOutput)")
    }

    @Test(.tags(.everyProvider)) func aHostileSecretBackendVariableCannotHangTheProcess() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "SecretService/bogus-backend")
        #expect(outcome.standardOutput.contains("set=0"), "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("get=v"))
    }

    /// libsecret would send its calls to another name, whose owner nothing here follows, so no
    /// reply could be checked: the variable is refused, and nothing is written.
    @Test(.tags(.everyProvider)) func aSecretServiceBusNameOtherThanTheStandardOneIsRefused() async throws {
        let app = "bus-name-\(UUID().uuidString.prefix(8))"
        let outcome = try await Subprocess.run([Subprocess.securestore, "set", "k", "--app", app], environment: ["SECRET_SERVICE_BUS_NAME": "org.example.Elsewhere"], input: "v")
        #expect(outcome.status == 69, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("SECRET_SERVICE_BUS_NAME"))
        let standard = try await Subprocess.run([Subprocess.securestore, "exists", "k", "--app", app], environment: ["SECRET_SERVICE_BUS_NAME": "org.freedesktop.secrets"])
        #expect(standard.status == 1, "the standard name is the service's own: \(standard.standardError)")
    }

    @Test(.tags(.everyProvider)) func badApplicationIDsAreInvalidOptions() {
        for applicationID in ["", "a\u{0}b"] {
            #expect(throws: SecureStoreError.self) { try SecretServiceBackend(applicationID: applicationID) }
        }
        #expect(throws: SecureStoreError.self) { try SecretServiceBackend(applicationID: "ok", timeout: .zero) }
    }
}
