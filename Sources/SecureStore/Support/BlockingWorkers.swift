#if canImport(CLibSecret)
import CLibSecret
import Dispatch
import Glibc
import Synchronization

/// Threads the backends own for their blocking calls (libsecret's D-Bus calls, the file
/// keyring's file work), so that no such call ever runs on Swift's cooperative thread pool. Threads start on demand, up to a
/// limit, and then wait for work for the rest of the process's life.
final class BlockingWorkers: @unchecked Sendable {
    static let shared = BlockingWorkers(maximumThreads: 8)
    /// One thread for opening connections, so that opens never run side by side (see
    /// `SecretServiceBackend.openConnection`).
    static let connectionOpener = BlockingWorkers(maximumThreads: 1)

    // Guarded by `mutex` (a pthread mutex and condition variable, which ThreadSanitizer
    // understands, unlike Synchronization.Mutex's futex on Linux).
    private let mutex = PthreadMutex()
    private var jobs: [@Sendable () -> Void] = []
    private var threads = 0
    private var idle = 0
    private let maximumThreads: Int
    /// When a job last started, ended or began a step (`DispatchTime` uptime nanoseconds).
    private let lastActivity = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `job` on one of the threads.
    func submit(_ job: @escaping @Sendable () -> Void) {
        mutex.lock()
        jobs.append(job)
        let startThread = jobs.count > idle && threads < maximumThreads
        if startThread { threads += 1 }
        mutex.signal()
        mutex.unlock()
        if startThread { startWorkerThread() }
    }

    /// Marks progress of the pool: a job that waits for a thread is getting closer to one.
    func noteActivity() {
        lastActivity.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Nanoseconds since a job last started, ended or began a step.
    var nanosecondsSinceActivity: UInt64 {
        GCancellation.elapsed(since: lastActivity.load(ordering: .relaxed), now: DispatchTime.now().uptimeNanoseconds)
    }

    private func startWorkerThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let workers = Unmanaged<BlockingWorkers>.fromOpaque(context!).takeRetainedValue()
            securestore_name_this_thread("SecureStore.lib")
            workers.work()
        }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            // No new thread: the job waits for one that is running (there is one unless this is
            // the first, and then the call times out rather than hangs).
            Unmanaged<BlockingWorkers>.fromOpaque(context).release()
            mutex.lock()
            threads -= 1
            mutex.unlock()
        }
    }

    private func work() -> Never {
        while true {
            mutex.lock()
            idle += 1
            while jobs.isEmpty { mutex.wait() }
            idle -= 1
            let job = jobs.removeFirst()
            mutex.unlock()
            // A job's start is marked by its call (`GCancellation.begin`); its end frees a thread.
            job()
            noteActivity()
        }
    }
}
#endif
