#if canImport(Glibc)
import CLibSecret
import Glibc
#endif

/// What the command does first, before it reads or prints any secret: a process that holds one
/// must not leave it in a core file (a crash, or SIGQUIT at the prompt), as `ssh-agent` does.
enum ProcessHardening {
    /// Forbids core dumps; `false` (errno set) when the kernel refused.
    static func forbidCoreDumps() -> Bool {
        securestore_forbid_core_dumps() == 0
    }
}
