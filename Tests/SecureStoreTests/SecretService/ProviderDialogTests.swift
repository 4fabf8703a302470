import Foundation
import Testing

/// The unlock dialogs of KeePassXC and kwalletd5 (each on Xvfb), answered the way a person would,
/// with xdotool. (GNOME Keyring's, which SecureStore drives through the Secret Service's prompt
/// like any other: `DesktopPromptTests`.)
@Suite("The providers' own unlock dialogs", TestSelection(), .tags(.keyring, .desktop))
struct ProviderDialogTests {
    /// Runs the scenario `Desktop/NAME` against `provider` with `arguments`.
    static func run(_ provider: String, _ scenario: String, _ arguments: [String]) async throws -> (lines: [String], context: String, outcome: Subprocess.Outcome) {
        let outcome = try await Subprocess.onDesktop(scenario: "Desktop/\(scenario)", arguments, environment: ["SECURESTORE_PROVIDER": provider])
        return (outcome.standardOutput.split(separator: "\n").map(String.init), "\(outcome.standardOutput)\n\(outcome.standardError)", outcome)
    }

    /// Three reads of a locked database or wallet share the provider's dialog (KeePassXC's
    /// "Unlock Database", kwalletd5's password dialog): one is seen, and one is asked for per
    /// round (`Prompt` calls on the bus); Escape fails all three with
    /// `ERR_AUTHENTICATION_CANCELED`; in the next round's dialog a wrong password keeps it (KeePassXC
    /// says so in its window; kwalletd5 hides the dialog and shows it again), and the right one
    /// lets all three read. (Without the process's one shared unlock, each read asked on
    /// KeePassXC: 6 prompts, checked.)
    @Test(arguments: ["keepassxc", "kwallet"])
    func concurrentReadsShareTheUnlockDialogCancelFailsThemAndThePasswordReads(provider: String) async throws {
        let (lines, context, _) = try await Self.run(provider, "provider-unlock-dialog", [Screenshots.path("\(provider)-unlock-dialog.png")])
        #expect(lines.contains("dialogs while three reads wait: 1"), "\(context)")
        #expect(lines.contains("dialogs after a wrong password: 1"), "\(context)")
        #expect(lines.contains("prompts=2"), "one dialog asked for per round, not one per read: \(context)")
        #expect(lines.contains("exit=0"), "\(context)")
        for key in ["a", "b", "c"] {
            #expect(lines.contains("round 1 \(key): ERR_AUTHENTICATION_CANCELED"), "\(context)")
            #expect(lines.contains("round 2 \(key): value-\(key)"), "\(context)")
        }
    }

    /// A read whose unlock dialog nobody answers fails with `ERR_TIMEOUT` at its timeout and
    /// dismisses its prompt (`Prompt.Dismiss`), but KeePassXC and kwalletd5 keep their dialog
    /// open (the prompt's dismissal does not close it, unlike GNOME Keyring's); the next read's
    /// unlock is answered there, and that read gets the value.
    @Test(arguments: ["keepassxc", "kwallet"])
    func aDialogLeftOpenPastTheTimeoutTimesOutAndServesTheNextRead(provider: String) async throws {
        let seconds = Int(TimeScale.seconds(5))
        let (lines, context, outcome) = try await Self.run(provider, "provider-dialog-timeout", ["\(seconds)"])
        let get = ScenarioOutput(outcome.standardOutput).command("get")
        #expect(get?.status == 75, "\(context)")
        #expect((get?.milliseconds ?? 0) >= seconds * 1000 - 100 && (get?.milliseconds ?? .max) < seconds * 2000, "\(context)")
        #expect(Array(lines.drop { $0.hasPrefix("get=") }) == ["Prompt", "Dismiss", "windows afterwards=1", "read=0", "round 1 token: kept"], "\(context)")
    }
}
