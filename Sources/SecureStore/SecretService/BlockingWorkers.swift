#if canImport(Glibc)
import Foundation

/// Threads the Secret Service backend owns for libsecret's blocking D-Bus calls, so that no
/// such call ever runs on Swift's cooperative thread pool. Threads start on demand, up to a
/// limit, and then wait for work for the rest of the process's life.
final class BlockingWorkers: @unchecked Sendable {
    static let shared = BlockingWorkers(maximumThreads: 8)

    // Guarded by `condition` (a pthread mutex and condition variable, which ThreadSanitizer
    // understands, unlike Synchronization.Mutex's futex on Linux).
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var threads = 0
    private var idle = 0
    private let maximumThreads: Int

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `job` on one of the threads.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let startThread = jobs.count > idle && threads < maximumThreads
        if startThread { threads += 1 }
        condition.signal()
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in work() }
            thread.name = "SecureStore.libsecret"
            thread.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            idle += 1
            while jobs.isEmpty { condition.wait() }
            idle -= 1
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
#endif
