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
        for situation in ["full-json-get", "full-json-list", "full-json-exists", "full-json-set"] {
            let outcome = try await redirected(situation)
            #expect(outcome.status == 74, "\(situation): \(outcome.standardError)")
            #expect(outcome.standardError.contains("ERR_IO"), "\(situation)")
        }
        _ = try await run(["clear"])
    }

    /// `producer | securestore set k` with a producer that failed must not replace `k`'s secret.
    @Test func anEmptyInputIsNoValueAndChangesNothing() async throws {
        #expect(try await run(["set", "kept"], input: "token").status == 0)
        let emptyPipe = try await redirected("empty-pipe")
        #expect(emptyPipe.status == 64, "\(emptyPipe.standardError)")
        #expect(emptyPipe.standardError.contains("ERR_NO_VALUE"))
        #expect(try await run(["set", "kept"], input: "\n").status == 64)
        let atPrompt = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "type:", "--", Subprocess.securestore, "set", "kept", "--app", app])
        #expect(atPrompt.standardOutput == "status=64 echo=on core=no\n", "\(atPrompt.standardError)")
        #expect(try await run(["get", "kept"]).standardOutput == "token\n")
        #expect(try await run(["set", "kept", "--allow-empty"], input: "").status == 0)
        let empty = try await run(["get", "kept", "--raw"])
        #expect(empty.status == 0 && empty.standardOutput.isEmpty)
        _ = try await run(["clear"])
    }

    /// A canonical-mode terminal cuts a line at 4,095 bytes without a word; the prompt reads
    /// every byte itself.
    @Test func aLineLongerThanTheTerminalsLineIsStoredWhole() async throws {
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "type-bytes:5000", "--", Subprocess.securestore, "set", "long", "--app", app])
        #expect(outcome.standardOutput == "status=0 echo=on core=no\n", "\(outcome.standardError)")
        #expect(try await run(["get", "long", "--raw"]).standardOutput == String(repeating: "x", count: 5000))
        _ = try await run(["clear"])
    }

    /// The prompt edits the line as the terminal would: erase (one character, however many
    /// bytes), kill, and Ctrl-D after text ends the line.
    @Test(arguments: [("abc\u{7F}d", "abd"), ("caf\u{E9}\u{7F}e", "cafe"), ("junk\u{15}ok", "ok"), ("a\u{16}\u{7F}b", "a\u{7F}b")])
    func thePromptEditsTheLineAsTheTerminalWould(typed: String, stored: String) async throws {
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "type:" + typed, "--", Subprocess.securestore, "set", "edited", "--app", app])
        #expect(outcome.standardOutput == "status=0 echo=on core=no\n", "\(outcome.standardError)")
        #expect(try await run(["get", "edited", "--raw"]).standardOutput == stored)
        _ = try await run(["clear"])
    }

    /// Ctrl-Z at the prompt gives the terminal back with its echo on, and `fg` silences it again:
    /// the secret typed before and after the stop is stored whole and was never shown.
    @Test func aStopAtThePromptRestoresTheTerminalAndFgSilencesItAgain() async throws {
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "suspend:sec:ret", "--", Subprocess.securestore, "set", "stopped", "--app", app])
        #expect(outcome.standardOutput == "status=0 echo=on core=no stopped-echo=on\n", "\(outcome.standardError)")
        #expect(try await run(["get", "stopped"]).standardOutput == "secret\n")
        _ = try await run(["clear"])
    }

    /// A terminal that does not take the no-echo setting gets no prompt: the value would show.
    /// A preloaded `tcsetattr` that always fails stands in for such a terminal.
    @Test func aTerminalThatKeepsItsEchoIsNeverPromptedOn() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("refuse.c"), library = folder.appendingPathComponent("refuse.so")
        try "#include <errno.h>\n#include <termios.h>\nint tcsetattr(int f, int a, const struct termios *t) { errno = EIO; return -1; }\n"
            .write(to: source, atomically: true, encoding: .utf8)
        let built = try await Subprocess.run(["cc", "-shared", "-fPIC", "-o", library.path, source.path])
        try #require(built.status == 0, "\(built.standardError)")
        let sanitizerOptions = ProcessInfo.processInfo.environment["ASAN_OPTIONS"].map { $0 + ":" } ?? ""
        let outcome = try await Subprocess.run(
            ["/usr/bin/python3", Subprocess.atTerminal, "type:secret", "--", Subprocess.securestore, "set", "unechoed", "--app", app],
            environment: ["LD_PRELOAD": library.path, "ASAN_OPTIONS": sanitizerOptions + "verify_asan_link_order=0"])
        #expect(outcome.standardOutput == "status=74 echo=on core=no\n", "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_IO") && outcome.standardError.contains("echo"))
        #expect(try await !isStored("unechoed"))
    }

    /// The key and options are checked before the secret is asked for.
    @Test func anInvalidKeyIsRefusedBeforeAnyValueIsAskedFor() async throws {
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "type:secret", "--", Subprocess.securestore, "set", "bad key", "--app", app])
        #expect(outcome.standardOutput == "status=64 echo=on core=no\n", "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_INVALID_KEY"))
        #expect(!outcome.standardError.contains("Value for"))
        let badOption = try await run(["set", "k", "--accessible", "NEVER"], input: "secret")
        #expect(badOption.status == 64 && badOption.standardError.contains("ERR_INVALID_OPTIONS"))
    }

    /// A value printed to a terminal shows its control characters (and bytes that are not
    /// UTF-8) as escapes; `--raw` prints it exactly.
    @Test func aValuePrintedToATerminalRunsNoEscape() async throws {
        #expect(try await run(["set", "escapes"], input: "a\u{1B}]0;PWNED\u{07}\u{202E}b").status == 0)
        let shown = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "--output", "--", Subprocess.securestore, "get", "escapes", "--app", app])
        #expect(shown.standardOutput == "a\\u{1b}]0;PWNED\\u{7}\\u{202e}b\r\n", "\(shown.standardOutput.debugDescription)")
        let raw = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, "--output", "--", Subprocess.securestore, "get", "escapes", "--raw", "--app", app])
        #expect(raw.standardOutput == "a\u{1B}]0;PWNED\u{07}\u{202E}b")
        _ = try await run(["clear"])
    }

    /// Another program's key with a terminal escape: the stream never learns it, so `watch`
    /// reports nothing of it, neither while it exists nor when it is deleted.
    @Test(arguments: [false, true])
    func watchNeverReportsAnotherProgramsInvalidKey(json: Bool) async throws {
        let outcome = try await Subprocess.run(scenario: "Command/watch-foreign", [app] + (json ? ["--json"] : []))
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == ["status=143", json ? #"{"event":"added","key":"end"}"# : "added end"], "\(outcome.standardOutput.debugDescription)")
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
        for arguments in [["\u{1B}[31mcommand"], ["get", "\u{1B}]0;title\u{07}"], ["get", "k", "--\u{1B}[2J"], ["get", "k", "extra\u{9B}31m"],
                          ["\u{202E}dnammoc"], ["get", "k", "--\u{2066}x"]] {
            let outcome = try await Subprocess.run([Subprocess.securestore] + arguments)
            #expect(outcome.status == 64)
            #expect(!outcome.standardError.unicodeScalars.contains { [0x1B, 0x07, 0x9B, 0x202E, 0x2066].contains($0.value) },
                    "\(outcome.standardError.debugDescription)")
        }
    }

    /// At a terminal: Ctrl-D is no value, a signal ends the prompt with the terminal's echo back
    /// and nothing stored, and a typed line is stored.
    /// SIGQUIT dumps no core: the partly typed secret would be in it.
    @Test(arguments: [("eof", 64), ("signal:INT", 130), ("signal:TERM", 143), ("signal:HUP", 129), ("signal:QUIT", 131)])
    func aPromptThatEndsWithoutALineStoresNothingAndRestoresTheTerminal(action: String, status: Int) async throws {
        let key = "prompted"
        let outcome = try await Subprocess.run(["/usr/bin/python3", Subprocess.atTerminal, action, "--", Subprocess.securestore, "set", key, "--app", app])
        #expect(outcome.standardOutput == "status=\(status) echo=on core=no\n", "\(outcome.standardError)")
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
        #expect(outcome.standardOutput == "status=0 echo=on core=no\n", "\(outcome.standardError)")
        #expect(try await run(["get", "typed"]).standardOutput == "typed value\n")
        _ = try await run(["clear"])
    }
}
