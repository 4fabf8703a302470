import Dispatch
import Glibc
import Testing
@testable import SecureStore

#if canImport(CLibSecret)
/// A step's idle time, which the watchdog ends a call by.
@Suite("Watchdog", TestSelection())
struct WatchdogTests {
    /// Another thread may begin a step between the moment `now` is read and the moment the
    /// step's start is: that is no idle time, never a wrapped-around one (a timeout at once).
    @Test func aStepThatBeganAfterNowWasReadHasBeenIdleForNoTime() {
        #expect(GCancellation.elapsed(since: 1_000, now: 5_000) == 4_000)
        #expect(GCancellation.elapsed(since: 5_000, now: 5_000) == 0)
        #expect(GCancellation.elapsed(since: 5_001, now: 5_000) == 0)
    }

    /// Counts a watchdog's timeouts, and waits (up to 20 s: a bound for a loaded machine, not
    /// a measure) for the first.
    final class Fired: Sendable {
        let count = Locked(0)
        func wait() async -> Int {
            for _ in 0..<400 where count.withLock({ $0 }) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
            return count.withLock { $0 }
        }
    }

    /// All watchdogs share one timer, set for the earliest check. A watchdog that starts after
    /// one of an hour must still fire in its own time: the timer is set earlier for it. (A clock
    /// of the test's own: the process's is set by every call of the other suites.)
    @Test func aShortTimeoutStartedAfterALongOneFiresOnceInItsOwnTime() async {
        let clock = WatchdogClock()
        let long = Watchdog(timeout: .seconds(3600), clock: clock, idleNanoseconds: { 0 }) {}
        defer { long.stop() }
        let fired = Fired()
        let short = Watchdog(timeout: .milliseconds(50), clock: clock, idleNanoseconds: { UInt64.max }) { fired.count.withLock { $0 += 1 } }
        #expect(await fired.wait() == 1)
        try? await Task.sleep(for: .milliseconds(200))
        #expect(fired.count.withLock { $0 } == 1, "once")
        #expect(!clock.isWatching(short) && clock.isWatching(long))
    }

    /// Progress puts the timeout off: a wait that was busy until just now is checked again when
    /// it could next have gone idle for the whole timeout, and fires once it has.
    @Test func progressPutsTheTimeoutOff() async {
        let start = ContinuousClock.now
        let fired = Fired()
        let clock = WatchdogClock()
        let watchdog = Watchdog(timeout: .milliseconds(100), clock: clock, idleNanoseconds: {
            // Busy for the first 300 ms, idle after.
            let elapsed = ContinuousClock.now - start
            return elapsed < .milliseconds(300) ? 0 : UInt64.max
        }) { fired.count.withLock { $0 += 1 } }
        #expect(await fired.wait() == 1)
        #expect(ContinuousClock.now - start >= .milliseconds(300), "not while the wait was busy")
        #expect(!clock.isWatching(watchdog))
    }

    /// A stopped watchdog never fires, and the clock holds nothing of it.
    @Test func aStoppedWatchdogNeverFires() async {
        let fired = Fired()
        let clock = WatchdogClock()
        let watchdog = Watchdog(timeout: .milliseconds(50), clock: clock, idleNanoseconds: { UInt64.max }) { fired.count.withLock { $0 += 1 } }
        watchdog.stop()
        #expect(!clock.isWatching(watchdog))
        try? await Task.sleep(for: .milliseconds(300))
        #expect(fired.count.withLock { $0 } == 0)
    }
}

/// The threads that run blocking calls: a call that waits for one is timed by the pool's
/// progress, not by its own wait alone.
@Suite("Blocking workers", TestSelection())
struct BlockingWorkersTests {
    /// Runs `work` on `workers` in a task, and returns once it has its thread.
    static func occupy(_ workers: BlockingWorkers, timeout: Duration, cancelsCalls: Bool = true,
                       _ work: @escaping @Sendable (GCancellation) -> Void) async -> Task<Void, any Error> {
        let started = Locked(false)
        let task = Task {
            try await workers.run(timeout: timeout, cancelsCalls: cancelsCalls) { cancellation in
                started.withLock { $0 = true }
                work(cancellation)
            }
        }
        while !started.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        return task
    }

    /// A call queued behind one that takes a step every 20 ms for 3 s waits its turn, though
    /// its own timeout is 1 s: a queue that moves is no keyring that fails to answer.
    @Test func aCallQueuedBehindProgressWaitsItsTurn() async throws {
        let workers = BlockingWorkers(maximumThreads: 1)
        let ahead = await Self.occupy(workers, timeout: .seconds(60)) { cancellation in
            for _ in 0..<150 {
                usleep(20_000)
                cancellation.beginStep()
            }
        }
        #expect(try await workers.run(timeout: .seconds(1)) { _ in 42 } == 42)
        try await ahead.value
    }

    /// A call queued behind one that makes no progress times out in its own time, while the
    /// one ahead still holds the thread.
    @Test func aCallQueuedBehindAStuckOneTimesOut() async throws {
        let workers = BlockingWorkers(maximumThreads: 1)
        let gate = DispatchSemaphore(value: 0)
        let ahead = await Self.occupy(workers, timeout: .seconds(3600), cancelsCalls: false) { _ in gate.wait() }
        do {
            _ = try await workers.run(timeout: .milliseconds(300)) { _ in 1 }
            Issue.record("the queued call ran before the stuck one ended")
        } catch let error as SecureStoreError {
            #expect(error.code == .timeout)
        }
        gate.signal()
        try await ahead.value
    }
}

/// Two readings of an unverified session (KWallet's broken key exchange) vouch for a value only
/// when both hold the same items with the same bytes.
@Suite("Two readings", TestSelection())
struct TwoReadingsTests {
    static func reading(_ values: [String: [UInt8]]) -> [String: SecretBytes] { values.mapValues(SecretBytes.init) }

    @Test func readingsAgreeOnlyOnTheSameItemsWithTheSameBytes() {
        let one = Self.reading(["/a": [1], "/b": [2]])
        #expect(SecretServiceConnection.readingsAgree(one, Self.reading(["/a": [1], "/b": [2]])))
        #expect(!SecretServiceConnection.readingsAgree(one, Self.reading(["/a": [1], "/b": [3]])))
        #expect(!SecretServiceConnection.readingsAgree(one, Self.reading(["/a": [1]])), "an item read once was never compared")
        #expect(!SecretServiceConnection.readingsAgree(Self.reading(["/a": [1]]), Self.reading(["/a": [1], "/b": [2]])))
        #expect(SecretServiceConnection.readingsAgree([:], [:]))
    }
}
#endif
