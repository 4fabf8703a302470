import Foundation
import Testing

/// `getItem` reads a remembered item path in one round trip (see `ItemPathMemory`). The
/// promise: once another process's write or delete has returned, no later `getItem` in this
/// process returns the old value.
@Suite("Remembered item paths stay coherent", TestSelection(), .tags(.keyring, .slow))
struct CoherenceTests {
    /// One long-lived reader process (StressProbe reader) is asked for keys between changes
    /// that other processes make: `secret-tool` overwrites in place, SecureStore overwrites with
    /// a new accessibility (a new item) and in place, edits of an item's attributes over D-Bus,
    /// deletes, and every 25 rounds a lock and a daemon restart. Each change has returned before
    /// the reader is asked (twice: the first read may search and remember, the second reads
    /// the remembered path). No read may return anything but the keyring's state at that point.
    @Test func noReadReturnsAValueOlderThanAChangeThatReturned() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(scenario: "Changes/coherence", environment: ["PROBE": ReliabilityTests.probe])
        let summary = outcome.standardOutput.split(separator: "\n").last { $0.hasPrefix("changes=") } ?? ""
        let fields = Dictionary(summary.split(separator: " ").compactMap { field -> (String, Int)? in
            let parts = field.split(separator: "=")
            guard parts.count == 2, let number = Int(parts[1]) else { return nil }
            return (String(parts[0]), number)
        }, uniquingKeysWith: { $1 })
        let context = "\(summary)\n\(outcome.standardError.suffix(3000))"
        #expect(fields["stale"] == 0, "\(context)")
        #expect((fields["changes"] ?? 0) >= 2000, "\(context)")
        // The one-round-trip path was really taken, for about every second read.
        #expect((fields["remembered"] ?? 0) >= (fields["checks"] ?? 0) / 4, "\(context)")
    }
}
