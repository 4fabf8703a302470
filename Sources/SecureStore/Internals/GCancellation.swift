#if canImport(CLibSecret)
import CLibSecret
import Dispatch
import Synchronization

/// The GCancellable of one backend call: cancelled by task cancellation or by the call's timer.
final class GCancellation: Sendable {
    // GCancellable is thread-safe; the pointer itself never changes.
    nonisolated(unsafe) let cancellable: UnsafeMutablePointer<GCancellable>
    /// Whether cancelling reaches the GCancellable (see `init(cancelsCalls:)`).
    let cancelsCalls: Bool
    private let timedOutFlag = Atomic(false)
    private let cancelledFlag = Atomic(false)
    private let lastStepStart = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    private let begunFlag = Atomic(false)

    /// With `cancelsCalls: false`, cancelling only marks the call, which checks the mark itself
    /// and is otherwise abandoned (see `BlockingWorkers.run`): the file keyring's
    /// calls, which hold no GCancellable.
    /// Told each time a step begins: the work of a key's lock holder (see `OutstandingWork`).
    private let progress: OutstandingWork?
    /// The threads the call runs on, told of each step too: calls queued for them are waiting
    /// on this one's progress.
    private let workers: BlockingWorkers?

    init(cancelsCalls: Bool = true, reportingProgressTo progress: OutstandingWork? = nil, on workers: BlockingWorkers? = nil) {
        cancellable = g_cancellable_new()
        self.cancelsCalls = cancelsCalls
        self.progress = progress
        self.workers = workers
    }
    deinit { g_object_unref(cancellable) }

    /// Marks the start of one wait on the Secret Service; the timeout counts from here.
    func beginStep() {
        lastStepStart.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        progress?.noteProgress()
        workers?.noteActivity()
    }

    /// Marks the moment the call got its thread; its first step begins.
    func begin() {
        begunFlag.store(true, ordering: .relaxed)
        beginStep()
    }

    /// Whether the call has got its thread.
    var hasBegun: Bool { begunFlag.load(ordering: .relaxed) }

    /// Nanoseconds since the current step began.
    var nanosecondsInStep: UInt64 {
        Self.elapsed(since: lastStepStart.load(ordering: .relaxed), now: DispatchTime.now().uptimeNanoseconds)
    }

    /// `now - start`, and 0 when a step began after `now` was read (another thread's
    /// `beginStep` between the two): a wrapped difference would be a timeout at once.
    static func elapsed(since start: UInt64, now: UInt64) -> UInt64 {
        now > start ? now - start : 0
    }

    func cancel() {
        cancelledFlag.store(true, ordering: .sequentiallyConsistent)
        if cancelsCalls { g_cancellable_cancel(cancellable) }
    }

    /// Cancels because the timeout passed, which callers report as a timeout, not a cancellation.
    func timeOut() {
        timedOutFlag.store(true, ordering: .sequentiallyConsistent)
        cancel()
    }

    var timedOut: Bool { timedOutFlag.load(ordering: .sequentiallyConsistent) }

    var isCancelled: Bool { cancelledFlag.load(ordering: .sequentiallyConsistent) }

    /// The error a cancelled GIO call reports, for work that notices cancellation itself.
    var cancelledError: GLibError {
        GLibError(domain: GLibError.io, code: Int32(bitPattern: GLibError.cancelled), message: "Operation was cancelled")
    }

    static func isCancellation(_ error: any Error) -> Bool {
        (error as? GLibError)?.is(GLibError.io, GLibError.cancelled) == true
    }
}
#endif
