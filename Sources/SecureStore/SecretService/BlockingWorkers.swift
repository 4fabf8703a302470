#if canImport(Glibc)
import Dispatch
import Foundation
import Synchronization

/// Threads the Secret Service backend owns for libsecret's blocking D-Bus calls, so that no
/// such call ever runs on Swift's cooperative thread pool. Threads start on demand, up to a
/// limit, and then wait for work for the rest of the process's life.
final class BlockingWorkers: Sendable {
    static let shared = BlockingWorkers(maximumThreads: 8)

    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var threads = 0
        var idle = 0
    }

    private let maximumThreads: Int
    private let state = Mutex(State())
    private let jobsWaiting = DispatchSemaphore(value: 0)

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `job` on one of the threads.
    func submit(_ job: @escaping @Sendable () -> Void) {
        let startThread = state.withLock { state -> Bool in
            state.jobs.append(job)
            guard state.jobs.count > state.idle, state.threads < maximumThreads else { return false }
            state.threads += 1
            return true
        }
        if startThread {
            let thread = Thread { [self] in work() }
            thread.name = "SecureStore.libsecret"
            thread.start()
        }
        jobsWaiting.signal()
    }

    private func work() {
        while true {
            state.withLock { $0.idle += 1 }
            jobsWaiting.wait()
            let job = state.withLock { state in
                state.idle -= 1
                return state.jobs.removeFirst()
            }
            job()
        }
    }
}
#endif
