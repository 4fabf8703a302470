import Foundation
import Testing

/// A process that lives for days: what a call allocates must not outlive it.
@Suite("Long-running processes", TestSelection(), .tags(.keyring, .slow))
struct LongRunningTests {
    static var benchmark: String { Subprocess.binDirectory.appendingPathComponent("SecureStoreBenchmark").path }

    /// The benchmark's soak, in a process of its own: 40,000 calls from 16 tasks with a 300 s
    /// timeout. A timer per call kept in libdispatch's heap until its deadline (about 1.7 KB each)
    /// would grow it by tens of MB; the bound leaves room for the allocator's own noise and is
    /// still far below that.
    @Test(.tags(.load), .disabled(if: TimeScale.factor > 1, "Under a sanitizer, resident memory is the sanitizer's: AddressSanitizer keeps freed memory in quarantine and grows its shadow, so a growth bound means nothing there. Scripts/test runs this test."))
    func sustainedLoadWithALongTimeoutKeepsMemoryFlat() async throws {
        let outcome = try await Subprocess.run([
            Subprocess.withSecretService, Self.benchmark, "--soak", "40000", "--timeout", "300", "--every", "10000",
        ])
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        let growth = ScenarioOutput(outcome.standardOutput).value("rss_growth_kib").flatMap { Int($0) }
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(lines.contains("wrong values: 0"), "\(outcome.standardOutput)")
        let kib = try #require(growth, "\(outcome.standardOutput)\n\(outcome.standardError)")
        #expect(kib < 20 * 1024, "resident memory grew by \(kib) KiB over 30,000 calls:\n\(outcome.standardOutput)")
    }
}
