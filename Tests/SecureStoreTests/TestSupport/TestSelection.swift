import Foundation
import Testing
@testable import SecureStore

extension Tag {
    /// Needs what `Scripts/test` installs and starts: a private Secret Service
    /// (`Scripts/with-secret-service`), the other providers, the sandbox tools, a display.
    @Tag static var keyring: Self
    /// Holds on every Secret Service provider: `Scripts/test` runs these again against KeePassXC
    /// and against KWallet.
    @Tag static var everyProvider: Self
    /// Runs inside the Flatpak-like sandbox too (`Scripts/with-sandbox`), on the sandbox keyring.
    @Tag static var sandbox: Self
    /// Drives a dialog of the desktop (the unlock dialog, KeePassXC's) on a private display.
    @Tag static var desktop: Self
    /// Runs on a machine with no session bus too (`Scripts/with-headless`), where the file
    /// keyring, keyed by a systemd credential, is what `.automatic` picks.
    @Tag static var headless: Self
    /// Runs many processes that each derive a keyring file's key: seconds of CPU each under a
    /// sanitizer (libgcrypt's PBKDF2 allocates at every round), which beside the other suites on
    /// two cores pushes their calls past their timeouts. `Scripts/test-sanitized` runs these in
    /// a pass of their own.
    @Tag static var processes: Self
    /// Takes a minute or more.
    @Tag static var slow: Self
    /// Floods the process's worker threads and the keyring with hundreds of calls: beside the
    /// other suites, on two cores, it would push their calls past their timeouts. `Scripts/test`
    /// runs these in a pass of their own.
    @Tag static var load: Self
}

/// Which tests a run selects, by their tags. Every suite carries it.
///
/// - `SECURESTORE_TAGS=everyProvider` (a comma-separated list): only tests with one of these tags
///   run; the rest are cancelled, and reported so.
/// - `SECURESTORE_SKIP_TAGS=load,desktop` (a comma-separated list): tests with one of these tags
///   are cancelled, and reported so (`Scripts/test` runs them in passes of their own).
/// - Without a private keyring (`SECURESTORE_PROVIDER` is set by `Scripts/with-secret-service`;
///   a sandbox has its own), tests tagged ``Tag/keyring`` are cancelled with one notice, so that a
///   bare `swift test` passes on any machine and never touches the user's own keyring. Under
///   `Scripts/test` and CI (`SECURESTORE_REQUIRE_KEYRING=1`) they always run, and fail without one.
struct TestSelection: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    static let environment = ProcessInfo.processInfo.environment
    static let selectedTags = tags(named: "SECURESTORE_TAGS")
    static let skippedTags = tags(named: "SECURESTORE_SKIP_TAGS")

    static func tags(named variable: String) -> Set<String>? {
        environment[variable].map { Set($0.split(separator: ",").map { ".\($0.trimmingCharacters(in: .whitespaces))" }) }
    }
    /// Under `Scripts/with-headless`: no session bus, a credential folder.
    static let isHeadless = environment["SECURESTORE_HEADLESS"] == "1"
    static let hasPrivateKeyring = environment["SECURESTORE_PROVIDER"] != nil || SandboxKeyringBackend.isSandboxed || isHeadless
    static let runsKeyringTests = hasPrivateKeyring || environment["SECURESTORE_REQUIRE_KEYRING"] == "1"
    static let keyringNotice = "needs a private Secret Service: run Scripts/test, which installs and starts one"

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let tags = Set(test.tags.map { "\($0)" })
        if let selected = Self.selectedTags, tags.isDisjoint(with: selected) {
            try Test.cancel("not selected by SECURESTORE_TAGS")
        }
        if let skipped = Self.skippedTags, !tags.isDisjoint(with: skipped) {
            try Test.cancel("left to a pass of its own by SECURESTORE_SKIP_TAGS")
        }
        if !Self.runsKeyringTests, tags.contains("\(Tag.keyring)") {
            try Test.cancel(Comment(rawValue: Self.keyringNotice))
        }
        try await function()
    }
}

/// Says once, in a bare `swift test`, why the keyring tests did not run.
@Suite("Test run", TestSelection())
struct TestRunNotice {
    @Test(.enabled(if: !TestSelection.runsKeyringTests))
    func keyringTestsNeedScriptsTest() {
        // Without a keyring, the contract suites run on the backends that need no service.
        #expect(BackendKind.allCases == [.inMemory, .fileKeyring])
        print("Note: the Secret Service tests were cancelled: each one \(TestSelection.keyringNotice).")
    }
}
