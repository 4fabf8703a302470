@_spi(SecureStoreInternal) import SecureStore

/// Runs the command's tasks on its main thread. A short-lived process pays more for the
/// cooperative pool's threads (their start, and each hand-over to them and back) than for its
/// own work; the library's blocking D-Bus calls still run on threads of their own.
final class MainThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `mutex`: the library resumes tasks from its own threads.
    private var jobs: [UnownedJob] = []
    private var status: Int32?
    private let mutex = PthreadMutex()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        locked { jobs.append(job) }
    }

    /// Runs `command` as a task on this executor, on the calling thread, and returns its exit
    /// status once it has one.
    func run(_ command: @escaping @Sendable () async -> Int32) -> Int32 {
        Task(executorPreference: self) {
            let status = await command()
            self.locked { self.status = status }
        }
        while true {
            mutex.lock()
            while jobs.isEmpty && status == nil { mutex.wait() }
            let ready = jobs
            jobs.removeAll()
            let finished = status
            mutex.unlock()
            // Jobs left once the status is known are the library's own leftovers: the process exits.
            if let finished { return finished }
            for job in ready { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    private func locked(_ change: () -> Void) {
        mutex.lock()
        change()
        mutex.signal()
        mutex.unlock()
    }
}
