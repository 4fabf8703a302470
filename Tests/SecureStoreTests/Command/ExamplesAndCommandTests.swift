import Foundation
import Testing

/// The examples and the `securestore` command, run as their users run them, against a real
/// gnome-keyring-daemon in a private session.
@Suite("Examples and the securestore command", TestSelection(), .tags(.keyring, .everyProvider))
struct ExamplesAndCommandTests {
    static func lines(_ outcome: Subprocess.Outcome) -> [String] {
        outcome.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func quickStartSetsGetsOverwritesAndDeletes() async throws {
        let outcome = try await Subprocess.inPrivateKeyring([Subprocess.binDirectory.appendingPathComponent("QuickStart").path])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(Self.lines(outcome).filter { !$0.isEmpty } == [
            "set apiToken",
            "get apiToken -> first-token",
            "overwrote apiToken",
            "get apiToken -> second-token",
            "keys in service 'quickstart': [\"apiToken\"]",
            "deleted apiToken",
            "get apiToken -> nil",
            "invalid key -> ERR_INVALID_KEY",
        ])
    }

    @Test func credentialFlowSignsInStoresReusesUpdatesAndSignsOut() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Examples/credential-flow")
        let output = outcome.standardOutput
        #expect(output.contains("""
            == first run
            no stored password for alice
            signed in as alice; password stored
            stored=first
            """), "\(output)\n\(outcome.standardError)")
        #expect(output.contains("""
            == second run
            signed in as alice with the stored password
            """), "no prompt the second time")
        #expect(output.contains("""
            == password changed on the server
            the server rejected the stored password
            signed in as alice; password stored
            stored=second
            """))
        #expect(output.contains("""
            == logout
            signed out; stored password deleted
            get after logout=1
            """))
        #expect(outcome.standardError.components(separatedBy: "Password for alice").count == 3, "asked exactly twice")
    }

    /// Apple's "Handle changes gracefully": a running session follows its stored password,
    /// signing in again when another process changes it and out when `secret-tool` deletes it.
    @Test func credentialFlowsSessionFollowsItsPasswordChangedAndDeletedFromOutside() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Examples/credential-flow-session")
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        let context = "\(outcome.standardOutput)\n\(outcome.standardError)"
        #expect(lines.contains("session exit=0"), "\(context)")
        #expect(!outcome.standardOutput.contains("never:") && !outcome.standardOutput.contains("still running"), "\(context)")
        #expect(lines.contains("signed in as alice; watching the stored password"), "\(context)")
        #expect(lines.contains("the stored password changed; signed in again"), "\(context)")
        #expect(lines.last == "the stored password was deleted; signed out", "\(context)")
    }

    @Test func theCommandStoresFromStandardInputAndReportsWithExitCodes() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Command/exit-codes")
        let lines = Self.lines(outcome)
        let expected = [
            "set=0", "line one", "line two", "get=0",
            " l i n e o n e \\n l i n e t w o",          // one trailing newline dropped by default
            " e x a c t \\n",                            // --raw keeps it
            #"{"key":"note","value":"line one\nline two"}"#,
            "missing=1", "exists=0", "exists-missing=1", #"{"exists":true,"key":"note"}"#,
            "set-service=0", "list=exact,note,", #"list-mail={"keys":["other"]}"#,
            "set-synced=0", "list-any=exact,note,synced,",
            "delete=0", "delete-again=0", "clear=0", "list-mail-after=",
            "bad-key=64", "bad-accessible=64", "contradiction=64",
            #"{"error":"ERR_NOT_FOUND","message":"No item under 'k'."}"#,
        ]
        for line in expected {
            #expect(lines.contains(line), "missing line: \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
        #expect(outcome.standardError.contains("ERR_INVALID_KEY"))
    }

    /// The two defects of issue 11: bytes that are not UTF-8 were replaced by U+FFFD on the way
    /// in, and the command exited 0. Now every byte is stored and printed exactly.
    @Test func theCommandStoresAndPrintsBytesExactly() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Command/bytes")
        let lines = Self.lines(outcome)
        let expected = [
            "set-random=0", "random=exact",
            "set-latin1=0", "latin1=636166e9",
            "set-default=0", "default=636166e9",            // the one trailing newline dropped, nothing else
            "printed=636166e90a",                            // get without --raw adds one newline
            #"{"encoding":"base64","key":"lat1","value":"Y2Fm6Q=="}"#,
            "nul=610062",
            "set-group=0", "group-read=shared", "without-group=1",
        ]
        for line in expected {
            #expect(lines.contains(line), "missing line: \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }

    /// The hand-written parser: both option spellings work, and every misuse exits 64 before
    /// anything is read or stored.
    @Test func theCommandParsesOptionsBothWaysAndRejectsMisuseWith64() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Command/parsing")
        let lines = Self.lines(outcome)
        for line in [
            "equals=0", "spaced=v", "bad-timeout=64", "unknown-option=64", "no-key=64", "two-keys=64",
            "list-with-key=64", "unknown-command=64", "raw-on-list=64", "flag-with-value=64", "nothing=64",
            "USAGE: securestore <command> [KEY] [options]", "help=0",
        ] {
            #expect(lines.contains(line), "missing line: \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }
}
