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
        // What each stage must report, and what else it may (one write may be reported twice).
        let rules: [ScenarioOutput.StageRule] = [
            .init(stage: "store", required: ["added k"], allowed: ["changed k"]),
            .init(stage: "overwrite", required: ["changed k"]),
            .init(stage: "edit", required: ["removed k", "added moved"], allowed: ["changed moved"]),
            .init(stage: "clear", required: ["removed moved"], allowed: ["changed moved"]),
            .init(stage: "lock", required: ["locked"]),
            .init(stage: "restart", required: ["service-available"], allowed: ["service-unavailable", "unlocked", "locked"]),
            // The new daemon's unlocked state is reported after it is back: it may come late.
            .init(stage: "after the restart", required: ["added k2"], allowed: ["changed k2", "unlocked"]),
        ]
        let broken = ScenarioOutput(outcome.standardOutput).eventStagesBreaking(rules)
        #expect(broken.isEmpty, "\(broken)\n\(context)")
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
