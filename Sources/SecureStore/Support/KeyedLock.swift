import Synchronization

/// Serialises async work per key within the process. Writers of one item hold it exclusively,
/// so that concurrent overwrites cannot leave two items behind; readers that must never see a
/// write half done (KWallet's unverified writes, see `ProviderQuirks.writesNeedReadBack`) hold it
/// shared, beside each other but never beside a writer. Waiters are served in arrival order.
///
/// A holder's call can end before the work it started does: a timeout lets the caller go while
/// a worker thread is still inside a blocking write. The lock is held until that work ends
/// too (see ``OutstandingWork``), so the next write of the key never runs beside it.
///
/// A waiter gives up when the key has gone its call's `timeout` without any progress: no hand-over
/// and no step begun by the holders' work (see ``OutstandingWork``); then it throws
/// ``SecureStoreError/Code/timeout``. It leaves at once when its task is cancelled
/// (`CancellationError`). So a holder stuck at an unlock dialog, or in a blocking call that never
/// returns, holds up no call past its own timeout, while a queue that moves (many writes of one
/// key, a write verified in many steps) is waited through, as a call's steps are (see
/// `Watchdog`). A waiter that leaves is taken out of the queue.
actor KeyedLock<Key: Hashable & Sendable> {
    enum Mode: Sendable { case shared, exclusive }

    private struct Waiter {
        var id: UInt64
        var mode: Mode
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// A key is held while it has an entry.
    private struct Holders {
        var readers = 0
        var hasWriter = false
        var waiting: [Waiter] = []

        func admits(_ mode: Mode) -> Bool {
            mode == .shared ? !hasWriter : !hasWriter && readers == 0
        }

        mutating func take(_ mode: Mode) {
            if mode == .shared { readers += 1 } else { hasWriter = true }
        }

        var isIdle: Bool { readers == 0 && !hasWriter && waiting.isEmpty }

        /// When the key last changed hands: a waiter was admitted.
        var lastHandOver = ContinuousClock.now
        /// The work of the calls holding the key, which reports their progress.
        var work: [ObjectIdentifier: OutstandingWork] = [:]

        /// When the holders last got on: a hand-over, or a step their work began.
        var lastProgress: ContinuousClock.Instant {
            work.values.compactMap(\.lastProgress).reduce(lastHandOver, max)
        }
    }

    private var holders: [Key: Holders] = [:]
    private var nextWaiterID: UInt64 = 0

    /// Runs `body` holding `key` in `mode`, once the lock is free; gives up when the key goes
    /// `timeout` without changing hands (`nil`: waits as long as it takes). `waited` hears how
    /// long a call that found the key held waited for it.
    func withLock<T: Sendable>(
        _ key: Key, _ mode: Mode = .exclusive, timeout: Duration? = nil, waited: (@Sendable (Duration) -> Void)? = nil,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        if try await lock(key, mode, timeout: timeout) { waited?(.now - start) }
        let outstanding = OutstandingWork()
        holders[key]?.work[ObjectIdentifier(outstanding)] = outstanding
        let result: Result<T, any Error>
        do {
            result = .success(try await OutstandingWork.$current.withValue(outstanding) { try await body() })
        } catch {
            result = .failure(error)
        }
        if !outstanding.whenDone({ Task { await self.unlock(key, mode, outstanding) } }) {
            unlock(key, mode, outstanding)
        }
        return try result.get()
    }

    /// How many tasks wait for `key` (for tests).
    func waiterCount(_ key: Key) -> Int { holders[key]?.waiting.count ?? 0 }

    /// Who holds and who waits for a key, for tests.
    struct Occupancy: Sendable {
        var readers = 0
        var hasWriter = false
        var waiting = 0
    }

    private var observers: [(key: Key, isMet: @Sendable (Occupancy) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Returns once `key`'s holders and waiters meet `isMet` (for tests, which must not spin).
    func until(_ key: Key, _ isMet: @escaping @Sendable (Occupancy) -> Bool) async {
        guard !isMet(occupancy(key)) else { return }
        await withCheckedContinuation { observers.append((key, isMet, $0)) }
    }

    private func occupancy(_ key: Key) -> Occupancy {
        holders[key].map { Occupancy(readers: $0.readers, hasWriter: $0.hasWriter, waiting: $0.waiting.count) } ?? Occupancy()
    }

    private func notifyObservers(of key: Key) {
        guard !observers.isEmpty else { return }
        let now = occupancy(key)
        observers.removeAll { observer in
            guard observer.key == key, observer.isMet(now) else { return false }
            observer.continuation.resume()
            return true
        }
    }

    /// Takes `key` in `mode`; returns whether it had to wait for it.
    private func lock(_ key: Key, _ mode: Mode, timeout: Duration?) async throws -> Bool {
        try Task.checkCancellation()
        guard let entry = holders[key], !entry.waiting.isEmpty || !entry.admits(mode) else {
            holders[key, default: Holders()].take(mode)
            notifyObservers(of: key)
            return false
        }
        nextWaiterID += 1
        let id = nextWaiterID
        // Holds the lock strongly until cancelled below (a weak reference's side table reads
        // as a leak to LeakSanitizer when the process exits while the lock lives).
        let timer = timeout.map { timeout in
            Task {
                var wake = ContinuousClock.now + timeout
                while true {
                    try await Task.sleep(until: wake, clock: .continuous)
                    guard let later = self.expire(key, id, timeout: timeout) else { return }
                    wake = later
                }
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Cancelled before it queued: the handler found nothing to take out.
                guard !Task.isCancelled else { return continuation.resume(throwing: CancellationError()) }
                holders[key]!.waiting.append(Waiter(id: id, mode: mode, continuation: continuation))
                notifyObservers(of: key)
            }
        } onCancel: {
            Task { await self.leave(key, id, throwing: CancellationError()) }
        }
        return true
    }

    /// At the waiter `id`'s timeout: when the key changed hands within `timeout`, returns when
    /// to look again; otherwise the waiter leaves with a timeout error. `nil` once it is gone.
    private func expire(_ key: Key, _ id: UInt64, timeout: Duration) -> ContinuousClock.Instant? {
        guard let entry = holders[key], entry.waiting.contains(where: { $0.id == id }) else { return nil }
        let quietUntil = entry.lastProgress + timeout
        if quietUntil > .now { return quietUntil }
        leave(key, id, throwing: SecureStoreError(
            .timeout, "Timed out waiting for another call on the same key in this process to end (it held the key for \(timeout))."))
        return nil
    }

    /// Takes the waiter `id` out of `key`'s queue and resumes it with `error`; nothing when it
    /// was admitted already. Those behind it may be admitted now.
    private func leave(_ key: Key, _ id: UInt64, throwing error: any Error) {
        guard var entry = holders[key], let index = entry.waiting.firstIndex(where: { $0.id == id }) else { return }
        let waiter = entry.waiting.remove(at: index)
        admitWaiters(&entry)
        holders[key] = entry.isIdle ? nil : entry
        waiter.continuation.resume(throwing: error)
        notifyObservers(of: key)
    }

    private func unlock(_ key: Key, _ mode: Mode, _ outstanding: OutstandingWork) {
        guard var entry = holders[key] else { return }
        entry.work[ObjectIdentifier(outstanding)] = nil
        if mode == .shared { entry.readers -= 1 } else { entry.hasWriter = false }
        admitWaiters(&entry)
        holders[key] = entry.isIdle ? nil : entry
        notifyObservers(of: key)
    }

    /// Admits the waiters at the head of the queue that the holders allow, in arrival order.
    private func admitWaiters(_ entry: inout Holders) {
        while let next = entry.waiting.first, entry.admits(next.mode) {
            entry.waiting.removeFirst()
            entry.take(next.mode)
            entry.lastHandOver = .now
            next.continuation.resume()
        }
    }
}

/// The work a lock holder handed to other threads, counted while it runs. ``current`` is bound
/// for the holder's task, and the code that starts such work (`BlockingWorkers.run`)
/// counts it with ``begin()`` and ``end()``.
final class OutstandingWork: Sendable {
    @TaskLocal static var current: OutstandingWork?

    private struct State {
        var running = 0
        var afterwards: (@Sendable () -> Void)?
        var lastProgress: ContinuousClock.Instant?
    }

    /// When the work last began a step (`nil`: never).
    var lastProgress: ContinuousClock.Instant? { state.withLock { $0.lastProgress } }

    /// The work began a step: waiters for its key are told it is getting on.
    func noteProgress() {
        let now = ContinuousClock.now
        state.withLock { $0.lastProgress = now }
    }

    private let state = Mutex(State())

    func begin() {
        state.withLock { $0.running += 1 }
    }

    func end() {
        let afterwards = state.withLock { state -> (@Sendable () -> Void)? in
            state.running -= 1
            guard state.running == 0 else { return nil }
            defer { state.afterwards = nil }
            return state.afterwards
        }
        afterwards?()
    }

    /// Runs `afterwards` once no work runs, and returns `true`; returns `false` at once, without
    /// running it, when none runs now.
    func whenDone(_ afterwards: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.running > 0 else { return false }
            state.afterwards = afterwards
            return true
        }
    }
}
