import Synchronization

/// Serialises async work per key within the process: whoever holds a key's lock runs, the rest
/// wait in order. Writers of one item take it so that concurrent overwrites cannot leave two
/// items behind.
///
/// A holder's call can end before the work it started does: a timeout lets the caller go while
/// a worker thread is still inside a blocking write. The lock is held until that work ends
/// too (see ``OutstandingWork``), so the next write of the key never runs beside it.
actor KeyedLock<Key: Hashable & Sendable> {
    /// A key is held while it has an entry; the entry lists the tasks waiting for it.
    private var waiting: [Key: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: Key, _ body: @Sendable () async throws -> T) async throws -> T {
        await lock(key)
        let outstanding = OutstandingWork()
        let result: Result<T, any Error>
        do {
            result = .success(try await OutstandingWork.$current.withValue(outstanding) { try await body() })
        } catch {
            result = .failure(error)
        }
        if !outstanding.whenDone({ Task { await self.unlock(key) } }) {
            unlock(key)
        }
        return try result.get()
    }

    /// How many tasks wait for `key` (for tests).
    func waiterCount(_ key: Key) -> Int { waiting[key]?.count ?? 0 }

    private func lock(_ key: Key) async {
        guard waiting[key] != nil else {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key]!.append($0) }
    }

    private func unlock(_ key: Key) {
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue
        next.resume()
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
