// Profiling modes of the benchmark: one operation many times, with CPU per call, for perf or
// callgrind to look at.
import CLibsecretBaseline
import Foundation
import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// `count` getItem hits (with `missing`, misses), then `count` of libsecret's lookups from C,
/// with user and system CPU per call.
func profileGetItem(count: Int, store: SecureStore, application: String, service: String, options: SecureStoreOptions,
                    missing: Bool = false) async throws {
    let key = missing ? "profile-missing" : "profile", rawKey = missing ? "profile-raw-missing" : "profile-raw"
    try await store.setItem("profile", "value", options: options)
    func report(_ name: String, since cpu: (user: Double, system: Double), _ start: ContinuousClock.Instant) {
        let now = processCPU()
        print(String(format: "%@: %.1f µs user + %.1f µs system CPU, %.1f µs wall per call", name,
                     (now.user - cpu.user) / Double(count), (now.system - cpu.system) / Double(count),
                     microseconds(ContinuousClock.now - start) / Double(count)))
    }
    var cpu = processCPU(), start = ContinuousClock.now
    for _ in 0..<count { _ = try await store.getItem(key, options: options) }
    report("getItem", since: cpu, start)
    var found: Int32 = 0
    require(baseline_store(application, service, "profile-raw", "value"), "store")
    cpu = processCPU(); start = ContinuousClock.now
    for _ in 0..<count { require(baseline_lookup(application, service, rawKey, &found), "lookup") }
    report("raw lookup", since: cpu, start)
    require(baseline_clear(application, service, "profile-raw"), "clear")
    try await store.deleteItem("profile", options: options)
}

/// `count` setItem of new keys interleaved with `count` of libsecret's stores of new keys from C
/// (one each in turn, so that both meet a collection of the same size), with user and system CPU
/// per call; every key is deleted after, outside the timing. With `overUnseen`, each key was
/// stored before by libsecret (another client, as far as this process knows), after one write
/// of another key: overwrites of keys the process has not seen, against libsecret's overwrites.
func profileSetItem(count: Int, store: SecureStore, application: String, service: String, options: SecureStoreOptions,
                    overUnseen: Bool = false) async throws {
    var ours = (user: 0.0, system: 0.0, wall: Duration.zero), raw = ours
    func add(_ total: inout (user: Double, system: Double, wall: Duration), since cpu: (user: Double, system: Double), _ start: ContinuousClock.Instant) {
        let now = processCPU()
        total.user += now.user - cpu.user
        total.system += now.system - cpu.system
        total.wall += ContinuousClock.now - start
    }
    if overUnseen {
        try await store.setItem("profile-warm", "value", options: options)
        for index in 0..<count {
            require(baseline_store(application, service, "profile-set-\(index)", "old"), "store")
            require(baseline_store(application, service, "profile-raw-set-\(index)", "old"), "store")
        }
    }
    for index in 0..<count {
        var cpu = processCPU(), start = ContinuousClock.now
        try await store.setItem("profile-set-\(index)", "value", options: options)
        add(&ours, since: cpu, start)
        cpu = processCPU(); start = ContinuousClock.now
        require(baseline_store(application, service, "profile-raw-set-\(index)", "value"), "store")
        add(&raw, since: cpu, start)
    }
    let what = overUnseen ? "key stored by another client" : "new key"
    for (name, total) in [("setItem, \(what)", ours), ("raw store, \(what)", raw)] {
        print(String(format: "%@: %.1f µs user + %.1f µs system CPU, %.1f µs wall per call", name,
                     total.user / Double(count), total.system / Double(count), microseconds(total.wall) / Double(count)))
    }
    for index in 0..<count {
        try await store.deleteItem("profile-set-\(index)", options: options)
        require(baseline_clear(application, service, "profile-raw-set-\(index)"), "clear")
    }
    if overUnseen { try await store.deleteItem("profile-warm", options: options) }
}

/// `count` allKeys of one service filled with 1,000 items, with CPU per call, and the keyring
/// daemon's CPU.
func profileAllKeys(count: Int, store: SecureStore) async throws {
    let listed = SecureStoreOptions(keychainService: "listed")
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<4 {
            group.addTask {
                for index in stride(from: task, to: 1000, by: 4) { try await store.setItem("item\(index)", "value", options: listed) }
            }
        }
        try await group.waitForAll()
    }
    /// Busy clock ticks of the whole machine, and of the keyring daemon (from /proc).
    func ticks() -> (machine: Int, daemon: Int) {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let total: [Int] = stat.split(separator: "\n").first?.split(separator: " ").dropFirst().compactMap { Int($0) } ?? []
        // user, nice, system, irq, softirq, steal: everything but idle and iowait.
        let machine = total.count > 7 ? [0, 1, 2, 5, 6, 7].reduce(0) { $0 + total[$1] } : 0
        let pid = ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER_PID"] ?? "0"
        let fields = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ") ?? []
        let daemon = fields.count > 13 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
        return (machine, daemon)
    }
    let before = ticks()
    let cpu = processCPU(), start = ContinuousClock.now
    for _ in 0..<count { _ = try await store.allKeys(options: listed) }
    let now = processCPU()
    let after = ticks(), hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
    print(String(format: "machine busy %.1f ms, keyring daemon %.1f ms CPU per call",
                 Double(after.machine - before.machine) / hertz * 1000 / Double(count),
                 Double(after.daemon - before.daemon) / hertz * 1000 / Double(count)))
    print(String(format: "allKeys of 1,000 items: %.1f ms user + %.1f ms system CPU, %.1f ms wall per call",
                 (now.user - cpu.user) / 1000 / Double(count), (now.system - cpu.system) / 1000 / Double(count),
                 microseconds(ContinuousClock.now - start) / 1000 / Double(count)))
    try await store.deleteAll(options: listed)
}
