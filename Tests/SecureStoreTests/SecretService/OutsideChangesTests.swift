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
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Changes/outside-changes", environment: ["PROBE": ReliabilityTests.probe])
        let context = "\(outcome.standardOutput)\n\(outcome.standardError.suffix(2000))"
        let stages = ScenarioOutput(outcome.standardOutput).stages
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

    /// A stream that starts while no service runs holds the bus connection its signals come
    /// through: nothing else holds it then, and GLib would drop it with its match rules.
    @Test func aStreamStartedBeforeTheServiceHearsItStartAndItsChanges() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Changes/service-starts-later",
                                                            environment: ReliabilityTests.noActivation.merging(["PROBE": ReliabilityTests.probe]) { $1 })
        let context = "\(outcome.standardOutput)\n\(outcome.standardError.suffix(2000))"
        #expect(!outcome.standardOutput.contains("never:"), "\(context)")
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "watching", "\(context)")
        #expect(lines.contains("service-available") && lines.contains("added k"), "\(context)")
    }
}
