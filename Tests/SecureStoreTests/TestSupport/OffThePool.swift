import Foundation

/// Runs CPU-bound or blocking test work on a thread of its own and returns its result. Swift
/// Testing runs every test on the cooperative pool, which has as many threads as the machine
/// has cores (two here): a long synchronous loop there stalls every other test's tasks, and
/// their keyring calls, queued meanwhile, then time out. The work cannot record issues (it runs
/// outside the test's task): it returns what it found, and the test checks that.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
