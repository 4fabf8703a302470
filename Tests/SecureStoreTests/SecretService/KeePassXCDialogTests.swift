import Foundation
import Testing

/// KeePassXC's delete confirmation (KeePassXC on Xvfb), answered the way a person would, with
/// xdotool. (Its unlock dialog: `ProviderDialogTests`.)
@Suite("KeePassXC's delete dialog", TestSelection(), .tags(.keyring, .desktop))
struct KeePassXCDialogTests {
    /// Runs the scenario `Desktop/NAME` against KeePassXC with `arguments`.
    static func run(_ scenario: String, _ arguments: [String]) async throws -> (lines: [String], outcome: Subprocess.Outcome) {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/\(scenario)", arguments, environment: ["SECURESTORE_PROVIDER": "keepassxc"])
        return (outcome.standardOutput.split(separator: "\n").map(String.init), outcome)
    }

    /// With a database without a recycle bin and deletes confirmed, each delete shows KeePassXC's
    /// "Delete entry?". Cancel fails the delete with `ERR_AUTHENTICATION_CANCELED` (the
    /// command's 78) and keeps the item, both through libsecret's prompt (the command) and in a
    /// long-lived process that hears the prompt's `Completed` itself; Delete deletes. With the
    /// item not read after the prompt, the command reported success for Cancel (libsecret's
    /// prompt returns its result whether dismissed or not): checked.
    @Test func aCancelledDeleteKeepsTheItemAndAConfirmedOneDeletesIt() async throws {
        let (lines, outcome) = try await Self.run("keepassxc-delete-dialog", [Screenshots.path("keepassxc-delete-dialog.png")])
        #expect(lines == ["== cancel", "dialogs=1", "command=78", "dialogs=1", "b !ERR_AUTHENTICATION_CANCELED", "a=kept", "b=kept",
                          "== delete", "dialogs=1", "command=0", "dialogs=1", "b deleted", "a=none", "b=none"],
                "\(outcome.standardOutput)\n\(outcome.standardError)")
    }
}
