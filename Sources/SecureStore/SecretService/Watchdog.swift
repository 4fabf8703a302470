#if canImport(Glibc)
import Dispatch
import Synchronization

/// Ends a wait that has gone `timeout` without progress: a bulk operation of many quick steps
/// (many D-Bus replies, say) may take longer in all. It checks back when the timeout could
/// first have passed, and again whenever progress pushed that moment further out; once the wait
/// has been idle for `timeout`, it calls `onTimeout` (once) and stops. Until then its pending
/// check keeps it alive: call `stop()` when the wait ends. (No weak reference: LeakSanitizer
/// reports a weakly referenced object's side table as leaked if the process exits meanwhile.)
final class Watchdog: Sendable {
    private let timeout: UInt64
    private let idleNanoseconds: @Sendable () -> UInt64
    private let onTimeout: @Sendable () -> Void
    /// DispatchWorkItem is thread-safe, though not marked Sendable.
    private final class PendingCheck: @unchecked Sendable {
        let item: DispatchWorkItem
        init(_ item: DispatchWorkItem) { self.item = item }
    }
    // A pthread lock: `stop` may run on GDBus's thread (see Locked).
    private let pending = Locked<PendingCheck?>(nil)
    private let stopped = Atomic(false)

    /// Starts watching. `idleNanoseconds` says how long ago the wait last made progress.
    init(timeout: Duration, idleNanoseconds: @escaping @Sendable () -> UInt64, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout.nanoseconds
        self.idleNanoseconds = idleNanoseconds
        self.onTimeout = onTimeout
        schedule(after: self.timeout)
    }

    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        // Dropping the pending check breaks the cycle watchdog -> check -> watchdog.
        pending.withLock { pending in
            pending?.item.cancel()
            pending = nil
        }
    }

    private func schedule(after nanoseconds: UInt64) {
        let check = PendingCheck(DispatchWorkItem { self.check() })
        pending.withLock { $0 = check }
        guard !stopped.load(ordering: .sequentiallyConsistent) else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: check.item)
    }

    private func check() {
        guard !stopped.load(ordering: .sequentiallyConsistent) else { return }
        let idle = idleNanoseconds()
        guard idle >= timeout else {
            schedule(after: timeout - idle)
            return
        }
        stop()
        onTimeout()
    }
}

extension Duration {
    /// Whole nanoseconds, capped where `Int` would overflow.
    fileprivate var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(min(seconds, Int64(Int.max / 1_000_000_000) - 1)) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
#endif
