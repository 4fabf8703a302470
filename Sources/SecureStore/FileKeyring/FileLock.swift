#if canImport(CLibSecret)
import Glibc

/// An exclusive `flock` on a lock file beside the keyring, held from `init` to `release`.
/// Each holder opens the file itself, so two threads of one process exclude each other as two
/// processes do. The lock file stays (removing it would let two writers lock two files).
struct FileLock {
    private let descriptor: Int32

    /// Takes the lock, polling while `canWait()` (the caller's timeout and cancellation).
    init(path: String, canWait: () -> Bool) throws(KeyringError) {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .lastSystemError("open lock file") }
        var pause: UInt32 = 200   // µs, doubled up to 10 ms
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                close(descriptor)
                throw .system("flock", error)
            }
            guard canWait() else {
                close(descriptor)
                throw .lockTimeout
            }
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
    }

    func release() {
        close(descriptor)
    }
}
#endif
