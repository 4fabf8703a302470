import Synchronization

/// Resumes a continuation exactly once, whoever gets there first (the work or the timer).
final class ResumeOnce<T: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<T, any Error>?)
        /// Resumed before the continuation arrived: it is resumed on arrival.
        case early(Result<T, any Error>)
        case done
    }
    private let state = Mutex(State.waiting(nil))

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            switch state {
            case .early(let result):
                state = .done
                return result
            case .waiting, .done:
                state = .waiting(continuation)
                return nil
            }
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            switch state {
            case .waiting(let continuation?):
                state = .done
                return continuation
            case .waiting(nil):
                state = .early(result)
                return nil
            case .early, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
