#if canImport(CLibSecret)
import Dispatch

extension BlockingWorkers {
    /// Runs `work` on one of these threads with a GCancellable that the task's
    /// cancellation cancels, and a watchdog that cancels it when one step (a D-Bus call, or the
    /// unlock dialog) has waited `timeout`; that ends in `timeoutError`, as does a step that
    /// still has not ended two seconds later. Other errors are passed on as thrown. While every
    /// thread is busy, the work waits for one, and times out only when none of them has made
    /// progress (started, ended, or begun a step) for `timeout`: a queue that moves is no
    /// keyring that fails to answer.
    ///
    /// With `cancelsCalls: false` (see `GCancellation`), the caller is let go instead: at once
    /// on task cancellation, at the timeout on the watchdog, and the work finishes unobserved.
    func run<T: Sendable>(
        timeout: Duration, cancelsCalls: Bool = true, _ work: @escaping @Sendable (GCancellation) throws -> T
    ) async throws -> T {
        // A lock holder's lock lasts until this work ends, even when its caller is let go first;
        // each step it begins tells the lock's waiters that the holder is getting on.
        let outstanding = OutstandingWork.current
        let cancellation = GCancellation(cancelsCalls: cancelsCalls, reportingProgressTo: outstanding, on: self)
        let resumption = ResumeOnce<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                resumption.attach(continuation)
                // Cancelled before it started: nothing to run (a second resume is ignored).
                guard !cancellation.isCancelled else { return resumption.resume(with: .failure(CancellationError())) }
                outstanding?.begin()
                let watchdog = Watchdog(timeout: timeout, idleNanoseconds: {
                    cancellation.hasBegun ? cancellation.nanosecondsInStep
                        : min(cancellation.nanosecondsInStep, self.nanosecondsSinceActivity)
                }) {
                    // The way out first: cancelling may block (see GCancellation.init).
                    if cancelsCalls {
                        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) {
                            resumption.resume(with: .failure(Self.timeoutError(timeout)))
                        }
                    } else {
                        resumption.resume(with: .failure(Self.timeoutError(timeout)))
                    }
                    cancellation.timeOut()
                }
                submit {
                    cancellation.begin()
                    let result = Result { try work(cancellation) }
                    outstanding?.end()
                    watchdog.stop()
                    resumption.resume(with: result.mapError { error in
                        cancellation.timedOut && GCancellation.isCancellation(error) ? Self.timeoutError(timeout) : error
                    })
                }
            }
        } onCancel: {
            cancellation.cancel()
            if !cancelsCalls { resumption.resume(with: .failure(CancellationError())) }
        }
    }

    static func timeoutError(_ timeout: Duration) -> SecureStoreError {
        SecureStoreError(.timeout, "The keyring did not answer within \(timeout).")
    }
}
#endif
