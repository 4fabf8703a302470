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

    /// Readers of a key hold it together; a writer waits for them, and readers that come while a
    /// writer waits queue behind it, so a read never runs beside a write. The time limit turns a
    /// deadlock into a failure; it is generous because every hop here waits its turn on the
    /// cooperative pool, which in CI's sanitizer pass also runs the thousand-task tests.
    @Test(.timeLimit(.minutes(10))) func readersShareAKeyAndNeverRunBesideAWriter() async throws {
        let lock = KeyedLock<String>()
        let events = EventLog()
        let firstReaderHolds = AsyncGate(), firstReaderMayEnd = AsyncGate()
        let firstReader = Task {
            try await lock.withLock("k", .shared) {
                await firstReaderHolds.open()
                await firstReaderMayEnd.wait()
                events.add("first read ended")
            }
        }
        await firstReaderHolds.wait()
        // A second reader runs beside the first.
        try await lock.withLock("k", .shared) { events.add("second read ran") }
        let writer = Task { try await lock.withLock("k") { events.add("write ran") } }
        await lock.until("k") { $0.waiting == 1 || $0.hasWriter }
        let lateReader = Task { try await lock.withLock("k", .shared) { events.add("late read ran") } }
        // Queued behind the writer (right), or reading beside the first reader (wrong).
        await lock.until("k") { $0.waiting == 2 || $0.readers == 2 }
        await firstReaderMayEnd.open()
        try await firstReader.value
        try await writer.value
        try await lateReader.value
        #expect(events.all == ["second read ran", "first read ended", "write ran", "late read ran"])
    }
}

/// What happened, in order, from any task.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    var all: [String] { events.withLock { $0 } }
    func add(_ event: String) { events.withLock { $0.append(event) } }
}

/// Opens once; every waiter, earlier or later, goes on.
actor AsyncGate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        waiting.forEach { $0.resume() }
        waiting = []
    }

    func wait() async {
        guard !isOpen else { return }
        await withCheckedContinuation { waiting.append($0) }
    }
}
