#if canImport(CLibSecret)
import CLibSecret
import Dispatch

/// The replies a batch of calls waits for, and its continuation, resumed exactly once: when the
/// last reply is in, when no reply has come for the timeout, or on cancellation, whichever
/// comes first (even before the continuation is attached).
final class PendingReplies<T: Sendable>: Sendable {
    typealias Replies = [Result<T, GLibError>]
    typealias Waiter = CheckedContinuation<Replies, any Error>

    private struct State {
        var continuation: Waiter?
        var results: [Result<T, GLibError>?]
        var outstanding: Int
        /// Set once the outcome is decided; `early` holds it until a continuation is attached.
        var ended = false
        var early: Result<Replies, any Error>?
        var calls: [ReplyRouter.Call] = []
        var lastProgress = DispatchTime.now()
        var watchdog: Watchdog?
    }

    private let state: Locked<State>
    private let router: ReplyRouter

    init(count: Int, router: ReplyRouter) {
        state = Locked(State(results: Array(repeating: nil, count: count), outstanding: count))
        self.router = router
    }

    func attach(_ continuation: Waiter) {
        let early = state.withLock { state in
            if state.early == nil { state.continuation = continuation }
            return state.early
        }
        if let early { continuation.resume(with: early) }
    }

    /// Starts the timeout once the calls are on their way: it ends the batch when no reply has
    /// come for `timeout` (many replies may take longer in all).
    func start(calls: [ReplyRouter.Call], timeout: Duration) {
        // Its closures hold self until the batch ends and stops it (see `end`).
        let watchdog = Watchdog(timeout: timeout, idleNanoseconds: {
            self.state.withLock { DispatchTime.now().uptimeNanoseconds - $0.lastProgress.uptimeNanoseconds }
        }) {
            self.fail(GLibError(domain: GLibError.io, code: Int32(bitPattern: GLibError.ioTimedOut),
                                message: "The Secret Service did not answer in time"))
        }
        let ended = state.withLock { state in
            state.calls = calls
            state.lastProgress = .now()
            if !state.ended { state.watchdog = watchdog }
            return state.ended
        }
        if ended {
            watchdog.stop()
            router.remove(calls)
        }
    }

    /// Takes the reply to call `index`, decoded by `decode`. The decoding runs only while the
    /// batch is open, under its lock: once the batch has ended (timed out, cancelled, failed), no
    /// decoding runs or is still running, so the caller may release what decoding reads (its
    /// connection's transfer session, for a secret).
    func receive(at index: Int, _ decode: () -> Result<T, GLibError>) {
        let finished: Replies? = state.withLock { state in
            guard !state.ended, state.results[index] == nil else { return nil }
            state.results[index] = decode()
            state.outstanding -= 1
            state.lastProgress = .now()
            guard state.outstanding == 0 else { return nil }
            return state.results.map { $0! }
        }
        if let finished { end(.success(finished)) }
    }

    /// Ends a batch of no calls: no replies.
    func receiveNone() {
        end(.success([]))
    }

    func fail(_ error: any Error) {
        end(.failure(error))
    }

    private func end(_ outcome: Result<Replies, any Error>) {
        let (continuation, calls, watchdog) = state.withLock { state -> (Waiter?, [ReplyRouter.Call], Watchdog?) in
            guard !state.ended else { return (nil, [], nil) }
            state.ended = true
            if state.continuation == nil { state.early = outcome }
            defer {
                state.continuation = nil
                state.watchdog = nil
            }
            return (state.continuation, state.calls, state.watchdog)
        }
        watchdog?.stop()
        if case .failure = outcome { router.remove(calls) }
        continuation?.resume(with: outcome)
    }
}
#endif
