import Foundation
import Testing
@testable import SecureStore

/// The README's "Secrets in memory", checked: after a `setBytes` and a `getBytes` whose caller
/// zeroes its own arrays, the plaintext is nowhere in the process's writable memory. The scan
/// runs in a process of its own (`StressProbe memory-scan`), where nothing else allocates, frees
/// or reads meanwhile, on a keyring of its own, and first proves it sees a live copy. A copy
/// found is reported with its mapping, offset and the header before it.
@Suite("Secrets in memory", TestSelection(), .tags(.keyring),
       .disabled(if: TimeScale.factor > 1, "Under a sanitizer the writable mappings include terabytes of shadow memory; Scripts/test runs this suite."))
struct SecretsInMemoryTests {
    @Test func afterSetBytesAndGetBytesThePlaintextIsNowhere() async throws {
        let probe = Subprocess.binDirectory.appendingPathComponent("StressProbe").path
        // A keyring of its own: no other test's calls or change signals reach the probe. A step
        // may still wait on a loaded machine for longer than the probe's default 5 s, which is
        // not what this test checks.
        let outcome = try await Subprocess.inPrivateKeyring([probe, "memory-scan", "--app", "memory-scan", "--timeout", "30"])
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(lines.contains("control=1"), "the scan must see a live copy: \(lines)")
        #expect(lines.contains("control-zeroed=0"), "\(lines)")
        #expect(lines.contains("reads=10"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("after=0 ") }, "the plaintext is still in the process: \(lines)")
    }
}
