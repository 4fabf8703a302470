// The `securestore` command against `secret-tool lookup`: whole processes, start-up included,
// because scripts call both in loops. Interleaved one for one.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `arguments` (a path and its arguments) with standard output to /dev/null, waits, and
/// returns its wall time in microseconds, or `nil` when it failed.
private func timeProcess(_ arguments: [String]) -> Double? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
    // As from a shell: no signal blocked (this runs on a thread of Dispatch's, which blocks them all).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    guard posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ) == 0 else { return nil }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let elapsed = ContinuousClock.now - start
    guard status == 0 else { return nil }
    return Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
}

/// `count` rounds of `securestore get` and `secret-tool lookup` of the same kind of item, plus
/// `securestore --help` alone; prints p50s and the ratio.
func commandStartup(count: Int, securestore: String) async throws {
    let application = "dev.securestore.CommandBenchmark.\(getpid())"
    let secretTool = ["/usr/bin/secret-tool", "lookup", "xdg:schema", "dev.securestore.Item",
                      "application", application, "service", "app", "key", "token"]
    guard try await runToEnd([securestore, "set", "token", "--app", application], input: "command benchmark value") == 0 else {
        print("could not store the item"); return
    }

    var ours: [Double] = [], theirs: [Double] = [], help: [Double] = []
    for _ in 0..<count {
        guard let get = timeProcess([securestore, "get", "token", "--app", application]),
              let lookup = timeProcess(secretTool),
              let usage = timeProcess([securestore, "--help"]) else {
            print("a command failed"); return
        }
        ours.append(get); theirs.append(lookup); help.append(usage)
    }
    _ = timeProcess([securestore, "clear", "--app", application])
    let get = Percentiles(ours), lookup = Percentiles(theirs), usage = Percentiles(help)
    print("per invocation, \(count) interleaved rounds; p50 / p90 / p99")
    print("| command | p50 / p90 / p99 |")
    print("| --- | --- |")
    print("| secret-tool lookup | \(format(lookup.p50)) / \(format(lookup.p90)) / \(format(lookup.p99)) |")
    print("| securestore get | \(format(get.p50)) / \(format(get.p90)) / \(format(get.p99)) |")
    print("| securestore --help | \(format(usage.p50)) / \(format(usage.p90)) / \(format(usage.p99)) |")
    print(String(format: "securestore get / secret-tool lookup, p50: %.2fx", get.p50 / lookup.p50))
}
