#if canImport(CLibSecret)
import Dispatch
import Synchronization

/// Makes concurrent unlocks in one process share one unlock dialog.
///
/// The first caller to need an unlock runs it (the Secret Service shows its dialog); callers
/// that arrive while it is under way wait for its outcome instead of asking for a dialog of
/// their own. If the user dismissed the dialog they all fail the same way; if it unlocked, each
/// then asks again, which the service answers at once and without a dialog. Waiting happens on
/// the backend's own threads and honours each caller's cancellation.
final class SharedUnlock: Sendable {
    private final class Attempt: Sendable {
        let finished = DispatchGroup()
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        init() { finished.enter() }
    }

    private let inFlight = Mutex<Attempt?>(nil)

    /// Runs `unlock`, or waits for the one already running and takes its failure as its own.
    func run(cancellation: GCancellation, _ unlock: () throws -> Void) throws {
        while true {
            let (attempt, leads) = inFlight.withLock { current -> (Attempt, Bool) in
                if let current { return (current, false) }
                let attempt = Attempt()
                current = attempt
                return (attempt, true)
            }
            if leads {
                let result = Result { try unlock() }
                inFlight.withLock { $0 = nil }
                attempt.outcome.withLock { $0 = result }
                attempt.finished.leave()
                return try result.get()
            }
            while attempt.finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if cancellation.isCancelled { throw cancellation.cancelledError }
            }
            switch attempt.outcome.withLock({ $0 }) {
            case .failure(let error) where !GCancellation.isCancellation(error):
                // The user's answer to the dialog this caller waited on.
                throw error
            default:
                // Unlocked (asking again costs no dialog), or the leader gave up: try ourselves.
                continue
            }
        }
    }
}
#endif
