import Synchronization

/// Serialises async work per key within the process. Writers of one item hold it exclusively,
/// so that concurrent overwrites cannot leave two items behind; readers that must never see a
/// write half done (KWallet's unverified writes, see `ProviderQuirks.writesNeedReadBack`) hold it
/// shared, beside each other but never beside a writer. Waiters are served in arrival order.
///
/// A holder's call can end before the work it started does: a timeout lets the caller go while
/// a worker thread is still inside a blocking write. The lock is held until that work ends
/// too (see ``OutstandingWork``), so the next write of the key never runs beside it.
actor KeyedLock<Key: Hashable & Sendable> {
    enum Mode: Sendable { case shared, exclusive }

    /// A key is held while it has an entry.
    private struct Holders {
        var readers = 0
        var hasWriter = false
        var waiting: [(mode: Mode, continuation: CheckedContinuation<Void, Never>)] = []

        func admits(_ mode: Mode) -> Bool {
            mode == .shared ? !hasWriter : !hasWriter && readers == 0
        }

        mutating func take(_ mode: Mode) {
            if mode == .shared { readers += 1 } else { hasWriter = true }
        }
    }

    private var holders: [Key: Holders] = [:]

    func withLock<T: Sendable>(_ key: Key, _ mode: Mode = .exclusive, _ body: @Sendable () async throws -> T) async throws -> T {
        await lock(key, mode)
        let outstanding = OutstandingWork()
        let result: Result<T, any Error>
        do {
            result = .success(try await OutstandingWork.$current.withValue(outstanding) { try await body() })
        } catch {
            result = .failure(error)
        }
        if !outstanding.whenDone({ Task { await self.unlock(key, mode) } }) {
            unlock(key, mode)
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

    private func lock(_ key: Key, _ mode: Mode) async {
        guard let entry = holders[key], !entry.waiting.isEmpty || !entry.admits(mode) else {
            holders[key, default: Holders()].take(mode)
            notifyObservers(of: key)
            return
        }
        await withCheckedContinuation { continuation in
            holders[key]!.waiting.append((mode, continuation))
            notifyObservers(of: key)
        }
    }

    private func unlock(_ key: Key, _ mode: Mode) {
        guard var entry = holders[key] else { return }
        if mode == .shared { entry.readers -= 1 } else { entry.hasWriter = false }
        while let next = entry.waiting.first, entry.admits(next.mode) {
            entry.waiting.removeFirst()
            entry.take(next.mode)
            next.continuation.resume()
        }
        holders[key] = entry.readers == 0 && !entry.hasWriter && entry.waiting.isEmpty ? nil : entry
        notifyObservers(of: key)
    }
}

/// The work a lock holder handed to other threads, counted while it runs. ``current`` is bound
/// for the holder's task, and the code that starts such work (`SecretServiceBackend.onWorker`)
/// counts it with ``begin()`` and ``end()``.
final class OutstandingWork: Sendable {
    @TaskLocal static var current: OutstandingWork?

    private struct State {
        var running = 0
        var afterwards: (@Sendable () -> Void)?
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
