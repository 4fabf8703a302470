import Foundation
import Testing

/// Secret Service providers other than GNOME Keyring, each started headless in a private bus of
/// its own (Scripts/with-secret-service with SECURESTORE_PROVIDER), driven through the command.
@Suite("Other Secret Service providers")
struct ProviderTests {
    /// Runs `script` with `$S` the command, against `provider`.
    static func run(_ provider: String, _ script: String) async throws -> (lines: [String], outcome: Subprocess.Outcome) {
        let outcome = try await Subprocess.inPrivateKeyring(
            "S=\"$SECURESTORE\"\n" + script, environment: ["SECURESTORE_PROVIDER": provider])
        return (outcome.standardOutput.split(separator: "\n").map(String.init), outcome)
    }

    /// KeePassXC 2.7.4 answers CreateItem(replace: true) over an existing item with an
    /// "Access Request" dialog (headless: nobody answers), so an overwrite used to wait out the
    /// timeout (exit 75) and keep the old value. Now it replaces the item's secret in place.
    @Test func keePassXCOverwritesWithoutADialogAndKeepsOneItem() async throws {
        let (lines, outcome) = try await Self.run("keepassxc", """
            printf 'first' | $S set token --app kp-test --timeout 10; echo "set=$?"
            printf 'second' | $S set token --app kp-test --timeout 10; echo "overwrite=$?"
            echo "read=$($S get token --app kp-test --timeout 10)"
            printf 'third' | $S set token --app kp-test --timeout 10 --accessible AFTER_FIRST_UNLOCK; echo "new-accessibility=$?"
            echo "read-again=$($S get token --app kp-test --timeout 10)"
            echo "items=$(secret-tool search --all application kp-test 2>/dev/null | grep -c '^label')"
            """)
        for line in ["set=0", "overwrite=0", "read=second", "new-accessibility=0", "read-again=third", "items=1"] {
            #expect(lines.contains(line), "missing line: \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }

    /// GNOME Keyring in a fresh account, started without a password (as D-Bus activation
    /// starts it): no login keyring, so the `default` alias names nothing. Every command used to
    /// exit 2 ("Object does not exist at path .../collection/login"), reads included. Now reads
    /// answer honestly (nothing can hide in a keyring that does not exist), and a write makes
    /// the keyring through the service's own dialog or says what is missing.
    @Test func aKeyringWithNoLoginKeyringAnswersReadsAndWritesSayWhatIsMissing() async throws {
        let outcome = try await Subprocess.inPrivateKeyring("""
            S="$SECURESTORE"
            kill "$SECURESTORE_TEST_KEYRING_PID"; sleep 0.5
            rm -rf "$XDG_DATA_HOME/keyrings"
            gnome-keyring-daemon --foreground --components=secrets </dev/null >/dev/null 2>&1 &
            daemon=$!
            gdbus wait --session --timeout 10 org.freedesktop.secrets
            echo "alias=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \\
              --method org.freedesktop.Secret.Service.ReadAlias default)"
            $S get k --app no-login-test --no-interaction; echo "get=$?"
            $S exists k --app no-login-test --no-interaction; echo "exists=$?"
            echo "list=[$($S list --app no-login-test --no-interaction)] $?"
            printf v | $S set k --app no-login-test --no-interaction; echo "set-without-interaction=$?"
            printf v | $S set k --app no-login-test --timeout 10; echo "set-without-display=$?"
            $S delete k --app no-login-test --no-interaction; echo "delete=$?"
            kill $daemon
            """, environment: ["SECURESTORE_NO_ACTIVATION": "1", "DISPLAY": nil])
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        for line in [
            "alias=(objectpath '/',)", "get=1", "exists=1", "list=[] 0", "set-without-interaction=77",
            "set-without-display=78", "delete=0",
        ] {
            #expect(lines.contains(line), "missing line: \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
        #expect(outcome.standardError.contains("no default keyring"))
    }
}
