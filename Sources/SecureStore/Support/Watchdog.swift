#if canImport(Glibc)
import Dispatch

/// Ends a wait that has gone `timeout` without progress: a bulk operation of many quick steps
/// (many D-Bus replies, say) may take longer in all. It checks back when the timeout could
/// first have passed, and again whenever progress pushed that moment further out; once the wait
/// has been idle for `timeout`, it calls `onTimeout` (once) and stops.
///
/// Call `stop()` when the wait ends. It cancels the timer, which libdispatch then unregisters
/// and frees at once, and drops both closures: nothing a call allocates outlives the call.
/// (A cancelled `asyncAfter` work item, by contrast, stays in libdispatch's timer heap until its
/// deadline: at thousands of calls a second that held megabytes per second of timeout.)
/// No weak references: LeakSanitizer reports a weakly referenced object's side table as leaked
/// when the process exits while the object lives.
final class Watchdog: Sendable {
    private struct Watch {
        var idleNanoseconds: @Sendable () -> UInt64
        var onTimeout: @Sendable () -> Void
    }

    private let timeout: UInt64
    /// `nil` once stopped. A pthread lock: `stop` may run on GDBus's thread (see Locked).
    private let watch: Locked<Watch?>
    private let timer: Timer

    /// Starts watching. `idleNanoseconds` says how long ago the wait last made progress.
    init(timeout: Duration, idleNanoseconds: @escaping @Sendable () -> UInt64, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout.nanoseconds
        watch = Locked(Watch(idleNanoseconds: idleNanoseconds, onTimeout: onTimeout))
        timer = Timer()
        // The handler holds the watchdog until the timer is cancelled (by `stop` or after the
        // timeout), which releases the handler.
        timer.source.setEventHandler { self.check() }
        timer.source.schedule(deadline: .now() + .nanoseconds(Int(self.timeout)), leeway: .milliseconds(1))
        timer.source.activate()
    }

    func stop() {
        watch.withLock { $0 = nil }
        timer.source.cancel()
    }

    private func check() {
        // The closures run outside the lock: they take locks of their own.
        guard let idleNanoseconds = watch.withLock({ $0?.idleNanoseconds }) else { return }
        let idle = idleNanoseconds()
        guard idle >= timeout else {
            timer.source.schedule(deadline: .now() + .nanoseconds(Int(timeout - idle)), leeway: .milliseconds(1))
            return
        }
        let onTimeout = watch.withLock { watch in
            defer { watch = nil }
            return watch?.onTimeout
        }
        timer.source.cancel()
        onTimeout?()
    }

    /// A dispatch timer source, which is thread-safe though not marked Sendable.
    private final class Timer: @unchecked Sendable {
        let source = DispatchSource.makeTimerSource(queue: .global())
    }
}

extension Duration {
    /// Whole nanoseconds, capped where `Int` would overflow.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(min(seconds, Int64(Int.max / 1_000_000_000) - 1)) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
#endif
