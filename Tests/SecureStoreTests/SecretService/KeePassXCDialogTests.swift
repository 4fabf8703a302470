import Foundation
import Testing

/// KeePassXC's own dialogs (KeePassXC on Xvfb), answered the way a person would, with xdotool.
@Suite("KeePassXC's dialogs", TestSelection(), .tags(.keyring, .desktop))
struct KeePassXCDialogTests {
    /// Where the test run leaves its screenshots of the dialogs.
    static let screenshots = Subprocess.packageRoot.appendingPathComponent(".build/screenshots")

    /// Runs the scenario `Desktop/NAME` against KeePassXC with `arguments`.
    static func run(_ scenario: String, _ arguments: [String]) async throws -> (lines: [String], outcome: Subprocess.Outcome) {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/\(scenario)", arguments, environment: ["SECURESTORE_PROVIDER": "keepassxc"])
        return (outcome.standardOutput.split(separator: "\n").map(String.init), outcome)
    }

    /// The path of the screenshot named `name`, its folder made.
    static func screenshot(_ name: String) throws -> String {
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        return screenshots.appendingPathComponent(name).path
    }

    /// Three reads of a locked database share KeePassXC's "Unlock Database" dialog: one is seen,
    /// and one is asked for per round (`Prompt` calls on the bus); Escape fails all three with
    /// `ERR_AUTHENTICATION_CANCELED`; in the next round's dialog a wrong password keeps it open,
    /// and the right one lets all three read. (Without the process's one shared unlock, each read
    /// asked: 6 prompts, checked.)
    @Test func concurrentReadsShareTheUnlockDialogCancelFailsThemAndThePasswordReads() async throws {
        let (lines, outcome) = try await Self.run("keepassxc-unlock-dialog", [Self.screenshot("keepassxc-unlock-dialog.png")])
        let context = "\(outcome.standardOutput)\n\(outcome.standardError)"
        #expect(lines.contains("dialogs while three reads wait: 1"), "\(context)")
        #expect(lines.contains("dialogs after a wrong password: 1"), "\(context)")
        #expect(lines.contains("prompts=2"), "one dialog asked for per round, not one per read: \(context)")
        #expect(lines.contains("exit=0"), "\(context)")
        for key in ["a", "b", "c"] {
            #expect(lines.contains("round 1 \(key): ERR_AUTHENTICATION_CANCELED"), "\(context)")
            #expect(lines.contains("round 2 \(key): value-\(key)"), "\(context)")
        }
    }

    /// A read whose unlock window nobody answers fails with `ERR_TIMEOUT` at its timeout and
    /// dismisses its prompt (`Prompt.Dismiss`), but KeePassXC keeps its window open (its prompt's
    /// dismissal does not close it, unlike GNOME Keyring's dialog); the next read's unlock is
    /// answered in that window, and that read gets the value.
    @Test func aDialogLeftOpenPastTheTimeoutTimesOutAndServesTheNextRead() async throws {
        let seconds = Int(TimeScale.seconds(5))
        let (lines, outcome) = try await Self.run("keepassxc-dialog-timeout", ["\(seconds)"])
        let context = "\(outcome.standardOutput)\n\(outcome.standardError)"
        let get = ScenarioOutput(outcome.standardOutput).command("get")
        #expect(get?.status == 75, "\(context)")
        #expect((get?.milliseconds ?? 0) >= seconds * 1000 - 100 && (get?.milliseconds ?? .max) < seconds * 2000, "\(context)")
        #expect(Array(lines.drop { $0.hasPrefix("get=") }) == ["Prompt", "Dismiss", "windows afterwards=1", "read=0", "round 1 token: kept"], "\(context)")
    }

    /// With a database without a recycle bin and deletes confirmed, each delete shows KeePassXC's
    /// "Delete entry?". Cancel fails the delete with `ERR_AUTHENTICATION_CANCELED` (the
    /// command's 78) and keeps the item, both through libsecret's prompt (the command) and in a
    /// long-lived process that hears the prompt's `Completed` itself; Delete deletes. With the
    /// item not read after the prompt, the command reported success for Cancel (libsecret's
    /// prompt returns its result whether dismissed or not): checked.
    @Test func aCancelledDeleteKeepsTheItemAndAConfirmedOneDeletesIt() async throws {
        let (lines, outcome) = try await Self.run("keepassxc-delete-dialog", [Self.screenshot("keepassxc-delete-dialog.png")])
        #expect(lines == ["== cancel", "dialogs=1", "command=78", "dialogs=1", "b !ERR_AUTHENTICATION_CANCELED", "a=kept", "b=kept",
                          "== delete", "dialogs=1", "command=0", "dialogs=1", "b deleted", "a=none", "b=none"],
                "\(outcome.standardOutput)\n\(outcome.standardError)")
    }
}
