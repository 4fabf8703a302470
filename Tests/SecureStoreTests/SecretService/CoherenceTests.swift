import Foundation
import Testing

/// `getItem` reads a remembered item path in one round trip (see `ItemPathMemory`), and a miss
/// in a collection remembered as unlocked is one search (see `LockStateMemory`). The promise:
/// once another process's write, delete, edit or lock has returned, no later `getItem` in this
/// process returns the old value, or "not found" for an item that is there or merely locked.
/// On every provider: each runs it in its own pass (`SECURESTORE_PROVIDER`).
@Suite("Remembered item paths and lock states stay coherent", TestSelection(), .tags(.keyring, .slow, .everyProvider))
struct CoherenceTests {
    static let provider = ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER"] ?? "gnome-keyring"

    /// One long-lived reader process (StressProbe reader) is asked for keys between changes
    /// that other processes make: `secret-tool` stores, another client's overwrite in place,
    /// SecureStore overwrites with a new accessibility (a new item) and in place, edits of an
    /// item's attributes over D-Bus, deletes, and every 25 rounds a lock and a new daemon. Each
    /// change has returned before the reader is asked (twice: the first read may search and
    /// remember, the second reads what was remembered), for the key and for one never stored.
    /// No read may return anything but the keyring's state at that point.
    @Test func noReadReturnsAValueOlderThanAChangeThatReturned() async throws {
        // Four locks and new daemons; every other kind of change a hundred times. Without the
        // memories' signal checks, 50 rounds already read stale (docs/performance.md).
        let rounds = 100
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Changes/coherence", environment: ["ROUNDS": "\(rounds)"])
        let output = ScenarioOutput(outcome.standardOutput)
        let summary = output.lines.last { $0.hasPrefix("changes=") } ?? ""
        let fields = ScenarioOutput.counts(summary)
        let context = "\(summary)\n\(outcome.standardError.suffix(3000))"
        #expect(fields["stale"] == 0, "\(context)")
        #expect((fields["changes"] ?? 0) >= rounds * 8, "\(context)")
        // A change that failed (a timeout on a loaded machine) is checked against what the
        // keyring holds; more than a few would leave little tested.
        #expect((fields["failed"] ?? 0) * 20 <= (fields["changes"] ?? 0), "\(context)")
        // The memories were really used: the remembered path for the second read of most checks
        // of a stored key (about 29% of all reads on each provider, as many checks are of keys
        // never stored or just changed): a fifth is asked for. Under a sanitizer, beside the
        // other suites, more calls time out and reconnect (a new connection remembers nothing
        // yet): a tenth. The lock state for every miss.
        let share = TimeScale.factor > 1 ? 10 : 5
        #expect((fields["remembered"] ?? 0) >= (fields["checks"] ?? 0) / share, "\(context)")
        #expect((fields["lock-recalled"] ?? 0) >= rounds, "\(context)")
        print("coherence on \(Self.provider): \(summary)")
    }
}
