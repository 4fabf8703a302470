import Foundation
import Testing

/// The desktop's real unlock dialog (gcr-prompter on Xvfb), raised by the library and answered
/// the way a person would: xdotool clicks, types and cancels.
@Suite("Desktop unlock dialog", TestSelection(), .tags(.keyring, .desktop))
struct DesktopPromptTests {
    /// Where the test run leaves its screenshot of the dialog (the README shows a copy).
    static let screenshot = Subprocess.packageRoot.appendingPathComponent(".build/screenshots/unlock-dialog.png")

    static func lines(_ outcome: Subprocess.Outcome) -> [String] {
        outcome.standardOutput.split(separator: "\n").map(String.init)
    }

    /// Three reads of a locked keyring wait on one dialog: one is seen, and one is asked for
    /// (`Prompt` calls on the bus, counted after every read has ended, so a read that asked late
    /// is counted too); Cancel fails all three, and the password typed in the next round's one
    /// dialog lets all three read.
    @Test func concurrentReadsShareOneDialogCancelFailsThemAndTheStoreStaysUsable() async throws {
        try FileManager.default.createDirectory(at: Self.screenshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/shared-dialog", [Self.screenshot.path])
        let lines = Self.lines(outcome)
        #expect(lines.contains("dialogs while three reads wait: 1"), "\(outcome.standardError)")
        #expect(lines.contains("dialogs in round two: 1"))
        #expect(lines.contains("prompts=2"), "one dialog asked for per round, not one per read")
        #expect(lines.contains("exit=0"))
        for key in ["a", "b", "c"] {
            #expect(lines.contains("round 1 \(key): ERR_AUTHENTICATION_CANCELED"), "one Cancel answers every waiting read")
            #expect(lines.contains("round 2 \(key): value-\(key)"), "unlocked through the dialog, then read")
        }
        #expect(FileManager.default.fileExists(atPath: Self.screenshot.path))
    }

    /// The read, given 60 s, fails as locked (77) rather than timing out (75) behind a dialog,
    /// and never asks for one: no `Unlock` or `Prompt` call reaches the bus.
    @Test func noInteractionFailsFastAndNeverShowsADialog() async throws {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/no-interaction")
        let lines = Self.lines(outcome)
        #expect(lines.contains("get=77"), "\(outcome.standardError)")
        #expect(lines.contains("unlock requests=0") && lines.contains("dialogs=0"), "\(outcome.standardOutput)")
        #expect(!outcome.standardError.contains("SystemPrompter"), "no dialog was even asked for")
    }

    /// Checking, listing and `isAvailable` answer a locked keyring without asking for its dialog
    /// (no `Unlock` or `Prompt` call reaches the bus), even with interaction allowed.
    @Test func checkingAndListingNeverShowADialogEvenWhenAllowed() async throws {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/check-and-list")
        let lines = Self.lines(outcome)
        #expect(lines.contains("exists=0"), "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(lines.contains("list=token"))
        #expect(lines.contains("available=true"))
        #expect(lines.contains("unlock requests=0") && lines.contains("dialogs=0"), "\(outcome.standardOutput)")
        #expect(!outcome.standardError.contains("SystemPrompter"), "no dialog was even asked for")
    }

    @Test func aWriteToAKeyringHiddenByItsLockUnlocksThenReplacesTheHiddenItem() async throws {
        // After a crash, D-Bus starts a daemon whose keyring is locked and hides its items even
        // from searches: the write must unlock first and then replace the item, not add one.
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/hidden-items")
        let lines = Self.lines(outcome)
        #expect(lines.contains("set=0"), "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(lines.contains("value=new"))
        #expect(lines.contains("items=1"), "the hidden item was replaced, not duplicated")
    }

    /// In a sandbox the key comes from the Secret portal, whose backend (gnome-keyring) shows the
    /// keyring's unlock dialog. Cancel fails the call: gnome-keyring answers the portal with an
    /// error, which the portal reports as any failure, so the call cannot tell a dismissal and
    /// says `ERR_SERVICE_UNAVAILABLE`. The next call shows the dialog again, and with the password
    /// it reads.
    @Test func aDismissedUnlockDialogBehindThePortalFailsAndTheNextCallUnlocks() async throws {
        let outcome = try await Subprocess.aroundSandboxOnDesktop(scenario: "Sandbox/portal-unlock-dialog")
        #expect(Self.lines(outcome) == ["set=0", "cancelled=69 ERR_SERVICE_UNAVAILABLE", "unlocked=0 v"],
                "\(outcome.standardOutput)\n\(outcome.standardError)")
    }

    @Test func aWrongPasswordThenCancelLosesNothing() async throws {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/wrong-password")
        let lines = Self.lines(outcome)
        #expect(lines.contains("dialogs after a wrong password: 1"), "the dialog asks again: \(outcome.standardError)")
        #expect(lines.contains("round 1 token: ERR_AUTHENTICATION_CANCELED"))
        #expect(lines.contains("round 2 token: kept"))
    }

    /// The timeout leaves the dialog time to appear first: with the whole suite starting, the
    /// prompter can take several seconds to start, and a call that timed out before there was a
    /// dialog would test nothing.
    @Test func aDialogLeftOpenPastTheTimeoutTimesOutAndGoesAway() async throws {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/dialog-timeout", ["\(Int(TimeScale.seconds(12)))"])
        let lines = Self.lines(outcome)
        #expect(lines.contains("dialog shown"), "\(outcome.standardError)")
        #expect(lines.contains("get=75"))
        #expect(lines.contains("dialogs afterwards=0"), "the timed-out call dismissed its dialog")
    }
}
