import Foundation
import Testing
@testable import SecureStore

/// The `securestore` command cannot be turned against its user: hostile arguments, standard
/// input, terminal signals and other programs' keys give a documented exit status, store
/// nothing they should not, and never reach the terminal as escape sequences.
@Suite("Command input", TestSelection(), .tags(.keyring))
struct CommandInputTests {
    let app = "command-input-\(UUID().uuidString.prefix(8))"

    func run(_ arguments: [String], input: String = "") async throws -> Subprocess.Outcome {
        try await Subprocess.run([Subprocess.securestore] + arguments + ["--app", app], input: input)
    }

    /// Runs the command with its input or output redirected: Tests/Scenarios/Command/redirected.sh.
    func redirected(_ situation: String) async throws -> Subprocess.Outcome {
        try await Subprocess.run(scenario: "Command/redirected", [situation, app])
    }

    func isStored(_ key: String) async throws -> Bool {
        try await run(["exists", key]).status == 0
    }

    @Test(arguments: ["1e300", "-1", "0", "nan", "inf", "-inf", "1e-9", "86401", " 5", "5s", ""])
    func everyTimeoutOutOfRangeIsAUsageError(timeout: String) async throws {
        let outcome = try await run(["get", "k", "--timeout", timeout])
        #expect(outcome.status == 64, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("--timeout must be"))
    }

    @Test func standardInputIsCappedAndALargerValueIsRefusedBeforeItsEnd() async throws {
        let endless = try await redirected("endless-input")
        #expect(endless.standardOutput == "status=64\n", "\(endless.standardError)")
        #expect(endless.standardError.contains("ERR_VALUE_TOO_LARGE"))
        #expect(try await !isStored("endless"))

        let largest = String(repeating: "z", count: SecureStore.maximumValueSize)
        #expect(try await run(["set", "largest"], input: largest + "\r\n").status == 0)
        let read = try await redirected("byte-count")
        #expect(read.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "\(SecureStore.maximumValueSize)")
        #expect(try await run(["set", "over"], input: largest + "z").status == 64)
        #expect(try await !isStored("over"))
        _ = try await run(["clear"])
    }

    @Test func aReadErrorStoresNothing() async throws {
        // A directory as standard input: read() fails with EISDIR.
        let outcome = try await redirected("directory-input")
        #expect(outcome.status == 74, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_IO"))
        #expect(try await !isStored("unread"))
    }

    @Test func outputThatCannotBeWrittenIsAFailure() async throws {
        #expect(try await run(["set", "printed"], input: "value").status == 0)
        let full = try await redirected("full-output")
        #expect(full.status == 74, "\(full.standardError)")
        #expect(!full.standardError.contains("value"))
        let list = try await redirected("full-list")
        #expect(list.status == 74, "\(list.standardError)")
        _ = try await run(["clear"])
    }

    @Test func anotherProgramsKeyIsNeverPrintedRaw() async throws {
        let hostileKey = "\u{1B}]0;PWNED\u{07}\u{1B}[31mred"
        let stored = try await Subprocess.storeWithSecretTool(label: "hostile", [
            "xdg:schema", "dev.securestore.Item", "application", app, "service", "app", "key", hostileKey, "synchronizable", "false",
        ], value: "v")
        #expect(stored.status == 0, "\(stored.standardError)")
        #expect(try await run(["set", "plain"], input: "v").status == 0)
        let list = try await run(["list"])
        #expect(list.status == 0 && list.standardOutput == "plain\n", "\(list.standardOutput.debugDescription)")
        let json = try await run(["list", "--json"])
        #expect(json.standardOutput == #"{"keys":["plain"]}"# + "\n")
        let store = SecureStore(backend: try SecretServiceBackend(applicationID: app, userInteraction: .notAllowed))
        #expect(try await store.allKeys() == ["plain"])
        _ = try await run(["clear"])
        _ = try await Subprocess.run(["secret-tool", "clear", "application", app])
    }

    @Test func argumentsAndMessagesNeverReachTheTerminalAsEscapes() async throws {
        for arguments in [["\u{1B}[31mcommand"], ["get", "\u{1B}]0;title\u{07}"], ["get", "k", "--\u{1B}[2J"], ["get", "k", "extra\u{9B}31m"]] {
            let outcome = try await Subprocess.run([Subprocess.securestore] + arguments)
            #expect(outcome.status == 64)
            #expect(!outcome.standardError.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B },
                    "\(outcome.standardError.debugDescription)")
        }
    }

    /// At a terminal: Ctrl-D is no value, a signal ends the prompt with the terminal's echo back
    /// and nothing stored, and a typed line is stored.
    @Test(arguments: [("eof", 64), ("signal:INT", 130), ("signal:TERM", 143), ("signal:HUP", 129)])
    func aPromptThatEndsWithoutALineStoresNothingAndRestoresTheTerminal(action: String, status: Int) async throws {
        let key = "prompted"
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, action, "--", Subprocess.securestore, "set", key, "--app", app])
        #expect(outcome.standardOutput == "status=\(status) echo=on\n", "\(outcome.standardError)")
        #expect(try await !isStored(key))
    }

    /// `watch` prints each change of its service as it happens, one line each (or one JSON object),
    /// and nothing of another service.
    @Test(arguments: [false, true])
    func watchPrintsEachChangeOfItsServiceAsItHappens(json: Bool) async throws {
        let outcome = try await Subprocess.run(scenario: "Command/watch", [app] + (json ? ["--json"] : []))
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        let expected = json
            ? [#"{"event":"added","key":"k"}"#, #"{"event":"changed","key":"k"}"#, #"{"event":"removed","key":"k"}"#, #"{"event":"added","key":"end"}"#]
            : ["added k", "changed k", "removed k", "added end"]
        #expect(lines == ["status=143"] + expected, "\(outcome.standardOutput) \(outcome.standardError)")
    }

    @Test func aLineTypedAtThePromptIsStored() async throws {
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "type:typed value", "--", Subprocess.securestore, "set", "typed", "--app", app])
        #expect(outcome.standardOutput == "status=0 echo=on\n", "\(outcome.standardError)")
        #expect(try await run(["get", "typed"]).standardOutput == "typed value\n")
        _ = try await run(["clear"])
    }
}
