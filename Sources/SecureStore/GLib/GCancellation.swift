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

    /// With `cancelsCalls: false`, cancelling only marks the call: libsecret's file backend
    /// (the sandbox keyring) deadlocks when its portal request is cancelled from another thread
    /// (its cancelled handler disconnects itself from inside the emission), so such a call is
    /// abandoned instead (see `SecretServiceBackend.onWorker`).
    init(cancelsCalls: Bool = true) {
        cancellable = g_cancellable_new()
        self.cancelsCalls = cancelsCalls
    }
    deinit { g_object_unref(cancellable) }

    /// Marks the start of one wait on the Secret Service; the timeout counts from here.
    func beginStep() {
        lastStepStart.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Nanoseconds since the current step began.
    var nanosecondsInStep: UInt64 {
        DispatchTime.now().uptimeNanoseconds &- lastStepStart.load(ordering: .relaxed)
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
        GLibError(domain: ServiceErrors.io, code: Int32(bitPattern: ServiceErrors.cancelled), message: "Operation was cancelled")
    }

    static func isCancellation(_ error: any Error) -> Bool {
        (error as? GLibError)?.is(ServiceErrors.io, ServiceErrors.cancelled) == true
    }
}
#endif
