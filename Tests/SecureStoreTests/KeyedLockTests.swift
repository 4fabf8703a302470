import Dispatch
import Synchronization
import Testing
@testable import SecureStore

/// A key's lock outlives a call that timed out while its worker was still writing.
@Suite("Per-key locks", TestSelection())
struct KeyedLockTests {
    @Test(arguments: [true, false])
    func noWriteRunsBesideOneThatTimedOutButIsStillRunning(cancelsCalls: Bool) async throws {
        let lock = KeyedLock<String>()
        let gate = DispatchSemaphore(value: 0)
        let events = Mutex<[String]>([])
        // The first holder's worker is stuck (a write inside a blocking call) past its timeout.
        let timedOut = await secureStoreError {
            try await lock.withLock("k") {
                try await SecretServiceBackend.onWorker(timeout: .milliseconds(50), cancelsCalls: cancelsCalls) { _ in
                    gate.wait()
                    events.withLock { $0.append("first write ended") }
                }
            }
        }
        #expect(timedOut?.code == .timeout)
        let second = Task {
            try await lock.withLock("k") { events.withLock { $0.append("second write started") } }
        }
        // Either the second holder queues behind the stuck write (right) or it runs (wrong).
        while await lock.waiterCount("k") == 0 && events.withLock({ $0.isEmpty }) {
            await Task.yield()
        }
        gate.signal()
        try await second.value
        #expect(events.withLock { $0 } == ["first write ended", "second write started"])
    }
}
