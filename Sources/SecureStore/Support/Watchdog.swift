#if canImport(Glibc)
import Dispatch

/// Ends a wait that has gone `timeout` without progress: a bulk operation of many quick steps
/// (many D-Bus replies, say) may take longer in all. It checks back when the timeout could
/// first have passed, and again whenever progress pushed that moment further out; once the wait
/// has been idle for `timeout`, it calls `onTimeout` (once) and stops.
///
/// Call `stop()` when the wait ends: it drops both closures, and the ``WatchdogClock`` forgets
/// the watchdog, so nothing a call allocates outlives the call. No weak references:
/// LeakSanitizer reports a weakly referenced object's side table as leaked when the process
/// exits while the object lives.
final class Watchdog: Sendable {
    private struct Watch {
        var idleNanoseconds: @Sendable () -> UInt64
        var onTimeout: @Sendable () -> Void
    }

    private let timeout: UInt64
    private let clock: WatchdogClock
    /// `nil` once stopped. A pthread lock: `stop` may run on GDBus's thread (see Locked).
    private let watch: Locked<Watch?>

    /// Starts watching. `idleNanoseconds` says how long ago the wait last made progress.
    init(timeout: Duration, clock: WatchdogClock = .shared, idleNanoseconds: @escaping @Sendable () -> UInt64,
         onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout.nanoseconds
        self.clock = clock
        watch = Locked(Watch(idleNanoseconds: idleNanoseconds, onTimeout: onTimeout))
        clock.wake(self, at: DispatchTime.now().uptimeNanoseconds + self.timeout)
    }

    func stop() {
        watch.withLock { $0 = nil }
        clock.forget(self)
    }

    /// Called by the clock once the moment to check has come.
    fileprivate func check() {
        // The closures run outside the lock: they take locks of their own.
        guard let idleNanoseconds = watch.withLock({ $0?.idleNanoseconds }) else { return }
        let idle = idleNanoseconds()
        guard idle >= timeout else {
            clock.wake(self, at: DispatchTime.now().uptimeNanoseconds + timeout - idle)
            return
        }
        let onTimeout = watch.withLock { watch in
            defer { watch = nil }
            return watch?.onTimeout
        }
        onTimeout?()
    }
}

/// One dispatch timer for every ``Watchdog`` of the process, set for the earliest moment one
/// must check. A watchdog that starts after that moment, or stops before it, leaves the timer
/// alone, so a call costs no timer of its own: a timer set and cancelled per call woke
/// libdispatch's manager thread twice a call. A check that comes for a watchdog stopped since
/// finds nothing to do and sets the timer for the next live one; with no watchdog left, the
/// timer stays unset and the process is not woken.
final class WatchdogClock: Sendable {
    static let shared = WatchdogClock()

    private struct State {
        /// When each live watchdog must be checked, in `DispatchTime` uptime nanoseconds.
        var due: [ObjectIdentifier: (at: UInt64, watchdog: Watchdog)] = [:]
        /// When the timer fires; `nil` while it is unset.
        var armedAt: UInt64?
    }

    private let state = Locked(State())
    private let timer: Timer

    /// The process has one (``shared``); tests make their own.
    init() {
        timer = Timer()
        // Unowned, so that a clock of a test's own is freed; deinit cancels the timer first.
        timer.source.setEventHandler { [unowned self] in fire() }
        timer.source.schedule(deadline: .distantFuture)
        timer.source.activate()
    }

    deinit {
        timer.source.cancel()
    }

    /// Has `watchdog` checked at `at` (uptime nanoseconds), instead of any moment set before.
    func wake(_ watchdog: Watchdog, at: UInt64) {
        state.withLock { state in
            state.due[ObjectIdentifier(watchdog)] = (at, watchdog)
            arm(&state, at: at)
        }
    }

    func forget(_ watchdog: Watchdog) {
        _ = state.withLock { $0.due.removeValue(forKey: ObjectIdentifier(watchdog)) }
    }

    /// Whether `watchdog` is to be checked (for tests: a stopped or fired one is not).
    func isWatching(_ watchdog: Watchdog) -> Bool { state.withLock { $0.due[ObjectIdentifier(watchdog)] != nil } }

    private func arm(_ state: inout State, at: UInt64) {
        guard state.armedAt.map({ at < $0 }) ?? true else { return }
        state.armedAt = at
        timer.source.schedule(deadline: DispatchTime(uptimeNanoseconds: at), leeway: .milliseconds(1))
    }

    private func fire() {
        let now = DispatchTime.now().uptimeNanoseconds
        let dueNow = state.withLock { state -> [Watchdog] in
            state.armedAt = nil
            let dueNow = state.due.filter { $0.value.at <= now }
            for key in dueNow.keys { state.due[key] = nil }
            return dueNow.values.map(\.watchdog)
        }
        for watchdog in dueNow { watchdog.check() }
        state.withLock { state in
            if let next = state.due.values.lazy.map(\.at).min() { arm(&state, at: next) }
        }
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
