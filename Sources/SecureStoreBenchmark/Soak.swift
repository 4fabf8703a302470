// The soak: sustained load from 16 tasks, printing what the process holds as the calls go on.
// It prints figures; it passes or fails nothing.
import Foundation
import SecureStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What this process holds, read from /proc.
struct Footprint: CustomStringConvertible {
    var residentKiB: Int
    var descriptors: Int
    var threads: Int

    static func now() -> Footprint {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first ?? "") } ?? -1
        }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        return Footprint(residentKiB: field("VmRSS"), descriptors: descriptors, threads: field("Threads"))
    }

    /// How many of this process's threads bear each name.
    static func threadNames() -> [String: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.reduce(into: [:]) { counts, task in
            let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            counts[name, default: 0] += 1
        }
    }

    /// How many open descriptors point at each kind of thing (socket, anon_inode:[eventfd], ...).
    static func descriptorKinds() -> [String: Int] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.reduce(into: [:]) { counts, descriptor in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) ?? "?"
            counts[target.hasPrefix("/") ? "file" : String(target.prefix { $0 != ":" || target.hasPrefix("anon_inode") }.prefix(24)), default: 0] += 1
        }
    }

    var description: String {
        String(format: "rss=%.1fMiB fds=%d threads=%d", Double(residentKiB) / 1024, descriptors, threads)
    }
}

/// `calls` calls from 16 tasks, as fast as they go: per 200 calls, 180 `getItem` hits, 16
/// `containsItem`, 2 `setItem` overwrites and 2 `allKeys`, over 10 keys. Prints the footprint
/// every `every` calls and the growth from the end of the first 10,000 calls to the end.
/// With `restarts`, kills the keyring daemon and starts a new one that many times while the
/// load goes on, starting after the first 10,000 calls (run it on a bus that activates nothing:
/// SECURESTORE_NO_ACTIVATION=1), counting the typed errors that the restarts cause. With
/// `inMemory`, the same load on InMemoryBackend.
func soak(calls: Int, timeout: Duration, restarts: Int, every: Int, inMemory: Bool) async throws {
    let application = "dev.securestore.Soak.\(getpid())"
    let store = inMemory
        ? SecureStore(backend: InMemoryBackend(applicationID: application))
        : SecureStore(backend: try SecretServiceBackend(applicationID: application, userInteraction: .notAllowed, timeout: timeout))
    let options = SecureStoreOptions(keychainService: "soak")
    let keys = (0..<10).map { "key\($0)" }
    for key in keys { try await store.setItem(key, "soak value of \(key)", options: options) }

    let counts = SoakCounts(restarts: restarts)
    let start = Footprint.now()
    let clock = ContinuousClock.now
    print("soak: \(calls) calls from 16 tasks, \(inMemory ? "InMemoryBackend" : "timeout \(timeout)"), \(restarts) daemon restarts")
    print("calls=0 \(start)")

    let daemonRestarts = Task<Int, Never>.detached {
        var done = 0
        // Restarts begin once the first 10,000 calls are done: growth is measured from there.
        while restarts > 0, counts.warm.withLock({ $0 }) == nil { try? await Task.sleep(for: .milliseconds(50)) }
        for _ in 0..<restarts {
            try? await Task.sleep(for: .milliseconds(300))
            guard restartKeyringDaemon() else { break }
            done += 1
        }
        counts.restartsDone.store(true, ordering: .relaxed)
        return done
    }

    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<16 {
            group.addTask {
                while true {
                    let call = counts.issued.add(1, ordering: .relaxed).newValue
                    if call > calls && counts.restartsDone.load(ordering: .relaxed) { break }
                    let key = keys[call % keys.count]
                    do {
                        switch call % 200 {
                        case 0, 100:
                            try await store.setItem(key, "soak value of \(key)", options: options)
                        case 1, 101:
                            _ = try await store.allKeys(options: options)
                        case let slot where slot % 12 == 2:
                            _ = try await store.containsItem(key, options: options)
                        default:
                            let value = try await store.getItem(key, options: options)
                            if value != "soak value of \(key)" { counts.wrong.add(1, ordering: .relaxed) }
                        }
                    } catch let error as SecureStoreError {
                        guard restarts > 0 else { throw error }
                        counts.failed.add(1, ordering: .relaxed)
                        counts.errorCodes.withLock { $0[error.code.rawValue, default: 0] += 1 }
                    }
                    let done = counts.completed.add(1, ordering: .relaxed).newValue
                    if done == 10_000 {
                        let footprint = Footprint.now()
                        counts.warm.withLock { $0 = footprint }
                    }
                    if done % every == 0 {
                        let seconds = Double((ContinuousClock.now - clock).components.seconds)
                        print("calls=\(done) seconds=\(Int(seconds)) \(Footprint.now())")
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let restarted = await daemonRestarts.value
    // Let what the last calls left behind settle (cancelled timers, late replies).
    try await Task.sleep(for: .milliseconds(500))
    let end = Footprint.now()
    let seconds = Double((ContinuousClock.now - clock).components.attoseconds) / 1e18 + Double((ContinuousClock.now - clock).components.seconds)
    let total = counts.completed.load(ordering: .relaxed)
    print("calls=\(total) seconds=\(Int(seconds)) \(end)")
    print(String(format: "throughput: %.0f calls/s", Double(total) / seconds))
    print("wrong values: \(counts.wrong.load(ordering: .relaxed))")
    if restarts > 0 {
        print("daemon restarts: \(restarted); failed calls: \(counts.failed.load(ordering: .relaxed)) \(counts.errorCodes.withLock { $0 }.sorted { $0.key < $1.key })")
    }
    let base = counts.warm.withLock { $0 } ?? start
    print(String(format: "growth from 10,000 calls to the end: rss %+.1f MiB, fds %+d, threads %+d",
                 Double(end.residentKiB - base.residentKiB) / 1024, end.descriptors - base.descriptors, end.threads - base.threads))
    print("rss_growth_kib=\(end.residentKiB - base.residentKiB)")
    print("threads by name: \(Footprint.threadNames())")
    print("descriptors by kind: \(Footprint.descriptorKinds())")
    try await store.deleteAll(options: options)
}

/// The soak's shared counters.
private final class SoakCounts: Sendable {
    let issued = Atomic(0), completed = Atomic(0), failed = Atomic(0), wrong = Atomic(0)
    /// Without restarts the load stops after `calls`; with them, once they are done too.
    let restartsDone: Atomic<Bool>
    let errorCodes = Mutex<[String: Int]>([:])
    /// The footprint at the end of the first 10,000 calls.
    let warm = Mutex<Footprint?>(nil)
    init(restarts: Int) { restartsDone = Atomic(restarts == 0) }
}

/// Kills the keyring daemon that `Scripts/with-secret-service` started (or the last one this
/// function started) and starts a new one on the same keyring files, unlocked; waits until it
/// owns the bus name.
private func restartKeyringDaemon() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    guard let pid = Int32(currentDaemonPID.withLock { $0 } ?? environment["SECURESTORE_PROVIDER_PID"] ?? ""),
          let password = environment["KEYRING_PASSWORD"] else {
        print("soak: restarts need Scripts/with-secret-service (SECURESTORE_PROVIDER_PID, KEYRING_PASSWORD)")
        return false
    }
    kill(pid, SIGKILL)
    // Gone, or a zombie waiting for its parent: either way it no longer owns the bus name.
    while let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          stat.split(separator: ")").last?.split(separator: " ").first != "Z" {
        usleep(10_000)
    }
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: "/usr/bin/gnome-keyring-daemon")
    daemon.arguments = ["--foreground", "--unlock", "--components=secrets"]
    let input = Pipe()
    daemon.standardInput = input
    daemon.standardOutput = FileHandle.nullDevice
    daemon.standardError = FileHandle.nullDevice
    do { try daemon.run() } catch { return false }
    input.fileHandleForWriting.write(Data(password.utf8))
    try? input.fileHandleForWriting.close()
    currentDaemonPID.withLock { $0 = String(daemon.processIdentifier) }
    let wait = Process()
    wait.executableURL = URL(fileURLWithPath: "/usr/bin/gdbus")
    wait.arguments = ["wait", "--session", "--timeout", "5", "org.freedesktop.secrets"]
    do { try wait.run() } catch { return false }
    wait.waitUntilExit()
    return wait.terminationStatus == 0
}

private let currentDaemonPID = Mutex<String?>(nil)
