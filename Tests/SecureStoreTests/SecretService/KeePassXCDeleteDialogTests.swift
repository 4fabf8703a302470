import Foundation
import Testing

/// KeePassXC's own "Delete entry?" dialog (KeePassXC on Xvfb, its database without a recycle bin
/// and with deletes confirmed), answered the way a person would: xdotool clicks Cancel, then
/// Delete.
@Suite("KeePassXC's delete dialog", TestSelection(), .tags(.keyring, .desktop))
struct KeePassXCDeleteDialogTests {
    /// Where the test run leaves its screenshot of the dialog.
    static let screenshot = Subprocess.packageRoot.appendingPathComponent(".build/screenshots/keepassxc-delete-dialog.png")

    /// Cancel fails the delete with `ERR_AUTHENTICATION_CANCELED` (the command's 78) and keeps
    /// the item, both through libsecret's prompt (the command) and in a long-lived process that
    /// hears the prompt's `Completed` itself; Delete deletes. Each delete shows one dialog. With
    /// the item not read after the prompt, the command reported success for Cancel (libsecret's
    /// prompt returns its result whether dismissed or not): checked.
    @Test func cancelKeepsTheItemAndDeleteDeletesIt() async throws {
        try FileManager.default.createDirectory(at: Self.screenshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/keepassxc-delete-dialog", [Self.screenshot.path],
                                                     environment: ["SECURESTORE_PROVIDER": "keepassxc"])
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == ["== cancel", "dialogs=1", "command=78", "dialogs=1", "b !ERR_AUTHENTICATION_CANCELED", "a=kept", "b=kept",
                          "== delete", "dialogs=1", "command=0", "dialogs=1", "b deleted", "a=none", "b=none"],
                "\(outcome.standardOutput)\n\(outcome.standardError)")
        #expect(FileManager.default.fileExists(atPath: Self.screenshot.path))
    }
}
