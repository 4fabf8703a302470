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

    @Test(.tags(.everyProvider)) func secretToolFindsItemsByTheDocumentedAttributesAndLabel() async throws {
        let backend = try backend()
        defer { Task { try? await backend.deleteEverything() } }
        let store = SecureStore(backend: backend)
        let options = SecureStoreOptions(keychainService: "mail", keychainAccessible: .afterFirstUnlock)
        try await store.setItem("imap.password", "pa55 wörd", options: options)

        let search = try await Subprocess.run([
            "secret-tool", "search", "--all", "xdg:schema", "dev.securestore.Item", "application", backend.applicationID,
        ])
        #expect(search.status == 0)
        let listing = search.standardOutput + search.standardError
        #expect(listing.contains("label = \(backend.applicationID) / mail / imap.password"))
        #expect(listing.contains("attribute.service = mail"))
        #expect(listing.contains("attribute.key = imap.password"))
        #expect(listing.contains("attribute.accessible = AFTER_FIRST_UNLOCK"))
        #expect(listing.contains("attribute.synchronizable = false"))
        #expect(listing.components(separatedBy: "label = ").count == 2, "exactly one item")

        let lookup = try await Subprocess.run([
            "secret-tool", "lookup", "xdg:schema", "dev.securestore.Item", "application", backend.applicationID,
            "service", "mail", "key", "imap.password",
        ])
        #expect(lookup.status == 0)
        #expect(lookup.standardOutput == "pa55 wörd")
    }

    @Test(.tags(.everyProvider)) func itemsWrittenBySecretToolReadBackAndOverwriteInPlace() async throws {
        let backend = try backend()
        defer { Task { try? await backend.deleteEverything() } }
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

    /// Bytes that are not UTF-8 cross to and from `secret-tool` exactly, and a string read of
    /// them is a typed error, never U+FFFD.
    @Test func bytesInteroperateWithSecretToolBothWays() async throws {
        let backend = try backend()
        defer { Task { try? await backend.deleteEverything() } }
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

    @Test(.tags(.everyProvider)) func badApplicationIDsAreInvalidOptions() {
        for applicationID in ["", "a\u{0}b"] {
            #expect(throws: SecureStoreError.self) { try SecretServiceBackend(applicationID: applicationID) }
        }
        #expect(throws: SecureStoreError.self) { try SecretServiceBackend(applicationID: "ok", timeout: .zero) }
    }
}
