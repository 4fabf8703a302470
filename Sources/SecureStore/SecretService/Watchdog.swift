#if canImport(Glibc)
import Dispatch

/// Ends a wait that has gone `timeout` without progress: a bulk operation of many quick steps
/// (many D-Bus replies, say) may take longer in all. It checks back when the timeout could
/// first have passed, and again whenever progress pushed that moment further out; once the wait
/// has been idle for `timeout`, it calls `onTimeout` (once) and stops.
///
/// Call `stop()` when the wait ends: it drops both closures at once, so nothing the caller
/// handed in outlives the wait, even while a cancelled check is still queued (libdispatch keeps
/// it until its deadline). No weak references: LeakSanitizer reports a weakly referenced
/// object's side table as leaked when the process exits while the object lives.
final class Watchdog: Sendable {
    private struct Watch {
        var idleNanoseconds: @Sendable () -> UInt64
        var onTimeout: @Sendable () -> Void
        var pendingCheck: PendingCheck?
    }
    /// DispatchWorkItem is thread-safe, though not marked Sendable.
    private final class PendingCheck: @unchecked Sendable {
        let item: DispatchWorkItem
        init(_ item: DispatchWorkItem) { self.item = item }
    }

    private let timeout: UInt64
    /// `nil` once stopped. A pthread lock: `stop` may run on GDBus's thread (see Locked).
    private let watch: Locked<Watch?>

    /// Starts watching. `idleNanoseconds` says how long ago the wait last made progress.
    init(timeout: Duration, idleNanoseconds: @escaping @Sendable () -> UInt64, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout.nanoseconds
        watch = Locked(Watch(idleNanoseconds: idleNanoseconds, onTimeout: onTimeout))
        schedule(after: self.timeout)
    }

    func stop() {
        let pendingCheck = watch.withLock { watch in
            defer { watch = nil }
            return watch?.pendingCheck
        }
        pendingCheck?.item.cancel()
    }

    private func schedule(after nanoseconds: UInt64) {
        let check = PendingCheck(DispatchWorkItem { self.check() })
        let watching = watch.withLock { watch in
            watch?.pendingCheck = check
            return watch != nil
        }
        guard watching else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: check.item)
    }

    private func check() {
        // The closures run outside the lock: they take locks of their own.
        guard let idleNanoseconds = watch.withLock({ $0?.idleNanoseconds }) else { return }
        let idle = idleNanoseconds()
        guard idle >= timeout else {
            schedule(after: timeout - idle)
            return
        }
        let onTimeout = watch.withLock { watch in
            defer { watch = nil }
            return watch?.onTimeout
        }
        onTimeout?()
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
