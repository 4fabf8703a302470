import Foundation
import Testing

/// `changes(options:)` in a process of its own (StressProbe watch) while other clients change
/// the keyring the way a desktop does: `secret-tool` stores, overwrites and clears, an edit of an
/// item's attributes over D-Bus (what Seahorse does), a lock, and a daemon restart. GNOME
/// Keyring only: the lock and the restart are its own; the contract suite checks other stores'
/// writes on every provider.
@Suite("Changes made by other clients", TestSelection(), .tags(.keyring))
struct OutsideChangesTests {
    @Test func aWatchingProcessHearsEveryOtherClientsChange() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(#"""
            cd "$HOME"; app=watch-outside
            attrs() { echo xdg:schema dev.securestore.Item application $app service app key "$1" synchronizable false; }
            : > events
            "$PROBE" watch --app $app >> events 2>&1 &
            probe=$!
            waitFor() { for _ in $(seq 600); do grep -qx "$1" events && return; sleep 0.1; done; echo "never: $1" >> events; }
            stage() { echo "== $1" >> events; }
            waitFor watching
            stage store; printf a | secret-tool store --label=t $(attrs k) accessible WHEN_UNLOCKED; waitFor "added k"
            stage overwrite; printf b | secret-tool store --label=t $(attrs k) accessible WHEN_UNLOCKED; waitFor "changed k"
            stage edit
            path=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
              --method org.freedesktop.Secret.Service.SearchItems "{'application': '$app', 'key': 'k'}" |
              grep -o "/org/freedesktop/secrets/collection/[^']*" | head -1)
            gdbus call --session --dest org.freedesktop.secrets --object-path "$path" \
              --method org.freedesktop.DBus.Properties.Set org.freedesktop.Secret.Item Attributes \
              "<{'xdg:schema': 'dev.securestore.Item', 'application': '$app', 'service': 'app', 'key': 'moved', 'accessible': 'WHEN_UNLOCKED', 'synchronizable': 'false'}>" >/dev/null
            waitFor "removed k"; waitFor "added moved"
            stage clear; secret-tool clear $(attrs moved); waitFor "removed moved"
            stage lock
            gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
              --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null
            waitFor locked
            stage restart
            gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
            replacement=$!
            waitFor service-available
            stage "after the restart"; printf c | secret-tool store --label=t $(attrs k2) accessible WHEN_UNLOCKED; waitFor "added k2"
            stage end
            kill $probe $replacement 2>/dev/null; wait $probe 2>/dev/null
            cat events
            """#, environment: ["PROBE": ReliabilityTests.probe])
        let context = "\(outcome.standardOutput)\n\(outcome.standardError.suffix(2000))"
        var stages: [String: [String]] = [:]
        var stage = "start"
        for line in outcome.standardOutput.split(separator: "\n").map(String.init) {
            if line.hasPrefix("== ") { stage = String(line.dropFirst(3)) } else { stages[stage, default: []].append(line) }
        }
        #expect(!outcome.standardOutput.contains("never:"), "\(context)")
        #expect(stages["start"] == ["watching"], "\(context)")
        // What each stage must report, and what else it may (one write may be reported twice).
        let rules: [(stage: String, required: Set<String>, allowed: Set<String>)] = [
            ("store", ["added k"], ["changed k"]),
            ("overwrite", ["changed k"], []),
            ("edit", ["removed k", "added moved"], ["changed moved"]),
            ("clear", ["removed moved"], ["changed moved"]),
            ("lock", ["locked"], []),
            ("restart", ["service-available"], ["service-unavailable", "unlocked", "locked"]),
            // The new daemon's unlocked state is reported after it is back: it may come late.
            ("after the restart", ["added k2"], ["changed k2", "unlocked"]),
        ]
        for rule in rules {
            let seen = Set(stages[rule.stage] ?? [])
            #expect(rule.required.isSubset(of: seen) && seen.isSubset(of: rule.required.union(rule.allowed)), "\(rule.stage): \(seen)\n\(context)")
        }
    }
}
