#if canImport(Glibc)
import Glibc

/// A value guarded by a pthread mutex. Used where the lock is taken on GDBus's own thread as
/// well as Swift's: ThreadSanitizer understands pthread mutexes, but not the futex behind
/// `Synchronization.Mutex` on Linux, and would report every access as a race. (Plain pthreads,
/// not Foundation's NSLock: the library does not load Foundation, which costs every process
/// that links it, the `securestore` command above all, milliseconds at start.)
final class Locked<Value>: @unchecked Sendable {
    private let mutex = PthreadMutex()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&value)
    }
}

/// A pthread mutex with a fixed address (a Swift stored property may move), and a condition
/// variable to wait on it with. (The `securestore` command's executor uses it too.)
@_spi(SecureStoreInternal)
public final class PthreadMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for `signal()`, with the mutex held (it is released while waiting).
    public func wait() { pthread_cond_wait(condition, mutex) }
    public func signal() { pthread_cond_signal(condition) }
}
#else
import Synchronization

/// A value guarded by a lock: `Synchronization.Mutex` where there are no pthreads to hand.
final class Locked<Value>: Sendable {
    private let mutex: Mutex<SendableBox>

    /// `Mutex` wants a `Sendable` value; the lock is what makes the access safe.
    private struct SendableBox: @unchecked Sendable { var value: Value }

    init(_ value: Value) {
        mutex = Mutex(SendableBox(value: value))
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try mutex.withLock { (box: inout SendableBox) throws(Failure) -> Result in try body(&box.value) }
    }
}
#endif
