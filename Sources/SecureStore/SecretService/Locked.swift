#if canImport(Glibc)
import Foundation

/// A value guarded by a pthread mutex (`NSLock`). Used where the lock is taken on GDBus's own
/// thread as well as Swift's: ThreadSanitizer understands pthread mutexes, but not the futex
/// behind `Synchronization.Mutex` on Linux, and would report every access as a race.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
#endif
