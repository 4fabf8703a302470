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
                try await BlockingWorkers.shared.run(timeout: .milliseconds(50), cancelsCalls: cancelsCalls) { _ in
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

    /// A holder that never lets go (a blocking call that never returns, a dialog nobody
    /// answers) holds up no waiter past its timeout: the waiter times out, leaves the queue,
    /// and the key is free again once the holder ends.
    @Test func aWaiterTimesOutWhenTheKeyStaysHeldAndLeavesTheQueue() async throws {
        let lock = KeyedLock<String>()
        let holderHolds = AsyncGate(), holderMayEnd = AsyncGate()
        let holder = Task {
            try await lock.withLock("k") {
                await holderHolds.open()
                await holderMayEnd.wait()
            }
        }
        await holderHolds.wait()
        let waited = await secureStoreError {
            try await lock.withLock("k", timeout: .milliseconds(50)) { _ = Issue.record("ran beside the holder") }
        }
        #expect(waited?.code == .timeout)
        #expect(await lock.waiterCount("k") == 0)
        await holderMayEnd.open()
        try await holder.value
        try await lock.withLock("k", timeout: .seconds(60)) {}
        #expect(await lock.waiterCount("k") == 0)
    }

    /// A queue that moves is waited through: six writers each hold the key for a quarter of the
    /// last one's timeout, so it waits longer than its timeout in all, but never that long
    /// without the key changing hands. (Both scaled under a sanitizer, where a loaded pool can
    /// wake a sleeper seconds late.)
    @Test func aWaiterBehindAQueueThatMovesWaitsLongerThanItsTimeout() async throws {
        let hold = Duration.seconds(TimeScale.seconds(0.5)), timeout = Duration.seconds(TimeScale.seconds(2))
        let lock = KeyedLock<String>()
        let firstHolds = AsyncGate()
        let events = EventLog()
        let writers = (0..<6).map { index in
            Task {
                if index > 0 { await lock.until("k") { $0.waiting == index - 1 && $0.hasWriter } }
                try await lock.withLock("k") {
                    if index == 0 { await firstHolds.open() }
                    try await Task.sleep(for: hold)
                    events.add("writer \(index)")
                }
            }
        }
        await firstHolds.wait()
        await lock.until("k") { $0.waiting == 5 }
        let started = ContinuousClock.now
        try await lock.withLock("k", timeout: timeout) { events.add("last") }
        #expect(ContinuousClock.now - started > timeout, "it waited past its timeout")
        for writer in writers { try await writer.value }
        #expect(events.all == (0..<6).map { "writer \($0)" } + ["last"])
    }

    /// A holder whose work keeps beginning steps (a write verified in many calls) is waited
    /// for past the waiter's timeout: it is getting on.
    @Test func aWaiterBehindAHolderThatGetsOnWaitsLongerThanItsTimeout() async throws {
        let hold = Duration.seconds(TimeScale.seconds(0.5)), timeout = Duration.seconds(TimeScale.seconds(2))
        let lock = KeyedLock<String>()
        let holderHolds = AsyncGate()
        let holder = Task {
            try await lock.withLock("k") {
                await holderHolds.open()
                for _ in 0..<6 {
                    try await Task.sleep(for: hold)
                    OutstandingWork.current?.noteProgress()
                }
            }
        }
        await holderHolds.wait()
        let started = ContinuousClock.now
        try await lock.withLock("k", timeout: timeout) {}
        #expect(ContinuousClock.now - started > timeout, "it waited past its timeout")
        try await holder.value
    }

    /// A cancelled waiter leaves at once with `CancellationError`, and a reader queued behind a
    /// writer that left is admitted beside the readers holding the key.
    @Test func aCancelledWaiterLeavesAtOnceAndThoseBehindItMoveUp() async throws {
        let lock = KeyedLock<String>()
        let readerHolds = AsyncGate(), readerMayEnd = AsyncGate()
        let reader = Task {
            try await lock.withLock("k", .shared) {
                await readerHolds.open()
                await readerMayEnd.wait()
            }
        }
        await readerHolds.wait()
        let writer = Task { try await lock.withLock("k") { _ = Issue.record("the cancelled writer ran") } }
        await lock.until("k") { $0.waiting == 1 }
        let events = EventLog()
        let lateReader = Task { try await lock.withLock("k", .shared) { events.add("late read ran") } }
        await lock.until("k") { $0.waiting == 2 }
        writer.cancel()
        await #expect(throws: CancellationError.self) { try await writer.value }
        try await lateReader.value
        #expect(events.all == ["late read ran"])
        await readerMayEnd.open()
        try await reader.value
        #expect(await lock.waiterCount("k") == 0)
    }

    /// A task cancelled before it asks never queues.
    @Test func aTaskCancelledBeforeItAsksNeverQueues() async throws {
        let lock = KeyedLock<String>()
        let holderHolds = AsyncGate(), holderMayEnd = AsyncGate()
        let holder = Task { try await lock.withLock("k") { await holderHolds.open(); await holderMayEnd.wait() } }
        await holderHolds.wait()
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await lock.withLock("k") { _ = Issue.record("ran while cancelled") }
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(await lock.waiterCount("k") == 0)
        await holderMayEnd.open()
        try await holder.value
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
