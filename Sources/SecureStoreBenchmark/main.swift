// SecureStore's benchmark: a program that prints measurements, never a pass or a fail.
// Run it with Scripts/benchmark (a release build, inside a private gnome-keyring). It measures,
// against one daemon in one run: libsecret's own calls from C (the floor for any wrapper),
// SecureStore on the Secret Service backend, and SecureStore on InMemoryBackend; concurrency
// with a heartbeat on the cooperative pool; 100 and 1,000 items in the collection; peak memory.
//
//   SecureStoreBenchmark [--iterations N] [--json PATH]
//   SecureStoreBenchmark --only-get N     N getItem hits then N raw lookups, with user and
//                                         system CPU per call: for profiling (perf record).
//   SecureStoreBenchmark --only-miss N    The same for misses.
//   SecureStoreBenchmark --only-set N     N setItem of new keys and N raw stores, in turn, with CPU.
//   SecureStoreBenchmark --only-set-unseen N
//                                         The same over keys libsecret stored before (keys this
//                                         process has not seen), against libsecret's overwrites.
//   SecureStoreBenchmark --only-allkeys N N allKeys of 1,000 items, with CPU per call.
//   SecureStoreBenchmark --soak N [--timeout SECONDS] [--restarts R] [--every K] [--in-memory]
//                                         N calls from 16 tasks, printing resident memory,
//                                         descriptors and threads every K calls (Soak.swift).
//   SecureStoreBenchmark --command N [--securestore PATH]
//                                         N interleaved runs of `securestore get` and
//                                         `secret-tool lookup` (CommandStartup.swift).
//   SecureStoreBenchmark --file-keyring [--iterations N]
//   SecureStoreBenchmark --sandbox [--iterations N]
//                                         The file keyring (with --sandbox, inside
//                                         Scripts/with-sandbox: the sandbox keyring) against
//                                         libsecret's file backend at 10, 100 and 1,000 items
//                                         (FileKeyringBenchmark.swift).
//   SecureStoreBenchmark --change-lag N [--securestore PATH]
//                                         N writes by the command, each timed to its report by
//                                         changes(options:), quiet and under churn (ChangeLag.swift).
import CLibsecretBaseline
import Foundation
import SecureStore
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let iterations = Int(option("--iterations") ?? "100")!
let jsonPath = option("--json") ?? ".build/benchmark.json"

var results: [String: Any] = ["iterations": iterations]
var rows: [(section: String, operation: String, raw: Percentiles?, secureStore: Percentiles?, inMemory: Percentiles?)] = []

let application = "dev.securestore.Benchmark.\(getpid())"
let service = "bench"
let options = SecureStoreOptions(keychainService: service)

// MARK: - The file keyring (in a sandbox: the sandbox keyring) against libsecret's file backend

if arguments.contains("--file-keyring") || arguments.contains("--sandbox") {
    try await fileKeyringBenchmark(iterations: iterations, inSandbox: arguments.contains("--sandbox"))
    exit(0)
}
let backend = try SecretServiceBackend(applicationID: application, userInteraction: .notAllowed, timeout: .seconds(60))
let store = SecureStore(backend: backend)
let memory = SecureStore(backend: InMemoryBackend(applicationID: application))
guard await store.isAvailable() else {
    FileHandle.standardError.write(Data("No Secret Service: run this through Scripts/benchmark.\n".utf8))
    exit(1)
}

if let count = option("--command").flatMap(Int.init) {
    // The command given (Scripts/benchmark passes the static build), else the one beside this binary.
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    try await commandStartup(count: count, securestore: option("--securestore") ?? directory.appendingPathComponent("securestore").path)
    exit(0)
}

if let count = option("--change-lag").flatMap(Int.init) {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let command = option("--securestore") ?? directory.appendingPathComponent("securestore").path
    for churn in [false, true] {
        try await changeLag(count: count, churn: churn, store: store, application: application, securestore: command)
    }
    exit(0)
}

if let calls = option("--soak").flatMap(Int.init) {
    try await soak(calls: calls, timeout: .seconds(Int(option("--timeout") ?? "30")!),
                   restarts: Int(option("--restarts") ?? "0")!, every: Int(option("--every") ?? "100000")!,
                   inMemory: arguments.contains("--in-memory"))
    exit(0)
}

if let count = option("--only-get").flatMap(Int.init) {
    try await profileGetItem(count: count, store: store, application: application, service: service, options: options)
    exit(0)
}

if let count = option("--only-miss").flatMap(Int.init) {
    try await profileGetItem(count: count, store: store, application: application, service: service, options: options, missing: true)
    exit(0)
}

if let count = option("--only-set").flatMap(Int.init) {
    try await profileSetItem(count: count, store: store, application: application, service: service, options: options)
    exit(0)
}

if let count = option("--only-set-unseen").flatMap(Int.init) {
    try await profileSetItem(count: count, store: store, application: application, service: service, options: options, overUnseen: true)
    exit(0)
}

if let count = option("--only-allkeys").flatMap(Int.init) {
    try await profileAllKeys(count: count, store: store)
    exit(0)
}

// MARK: - One operation at a time, small collection

@MainActor func operations(section: String) async throws {
    let value = "benchmark value 🔑 0123456789abcdef"
    // Raw libsecret from C. Blocking calls, measured one at a time on purpose: this is the floor.
    // Interleaved with the same SecureStore operation (see measurePair); SecureStore's
    // numbers from these pairs replace the ones measured alone below.
    var paired: [String: Percentiles] = [:]
    let rawNew: Percentiles, rawOver: Percentiles?, rawHit: Percentiles, rawMiss: Percentiles, rawClear: Percentiles
    (rawNew, paired["set-new"]) = try await measurePair(iterations,
        raw: { require(baseline_store(application, service, "raw-new-\(section)-\($0)", value), "store") },
        wrapped: { try await store.setItem("pair-new-\(section)-\($0)", value, options: options) })
    require(baseline_store(application, service, "raw-over", value), "store")
    try await store.setItem("pair-over", value, options: options)
    (rawOver, paired["set-overwrite"]) = try await measureOverwritePair(iterations,
        raw: { _ in require(baseline_store(application, service, "raw-over", value), "store") },
        wrapped: { _ in try await store.setItem("pair-over", value, options: options) })
    (rawHit, paired["get-hit"]) = try await measurePair(iterations,
        raw: { _ in var found: Int32 = 0; require(baseline_lookup(application, service, "raw-over", &found), "lookup") },
        wrapped: { _ in _ = try await store.getItem("pair-over", options: options) })
    // The bytes API against the same raw calls: it should cost what the string API costs.
    let bytes = Array(value.utf8)
    let rawBytesOver: Percentiles?, rawBytesHit: Percentiles
    (rawBytesOver, paired["set-bytes-overwrite"]) = try await measureOverwritePair(iterations,
        raw: { _ in require(baseline_store(application, service, "raw-over", value), "store") },
        wrapped: { _ in try await store.setBytes("pair-over", bytes, options: options) })
    (rawBytesHit, paired["get-bytes-hit"]) = try await measurePair(iterations,
        raw: { _ in var found: Int32 = 0; require(baseline_lookup(application, service, "raw-over", &found), "lookup") },
        wrapped: { _ in _ = try await store.getBytes("pair-over", options: options) })
    (rawMiss, paired["get-miss"]) = try await measurePair(iterations,
        raw: { var found: Int32 = 0; require(baseline_lookup(application, service, "raw-missing-\($0)", &found), "lookup") },
        wrapped: { _ = try await store.getItem("pair-missing-\($0)", options: options) })
    // containsItem of a missing key against libsecret's lookup miss: both one search.
    let rawContainsMiss: Percentiles
    (rawContainsMiss, paired["contains-miss"]) = try await measurePair(iterations,
        raw: { var found: Int32 = 0; require(baseline_lookup(application, service, "raw-missing-\($0)", &found), "lookup") },
        wrapped: { _ = try await store.containsItem("pair-missing-\($0)", options: options) })
    // A key this process has not read before (its search still to do), against libsecret's
    // lookup hit: what the "hit" rows above save comes from the second read on.
    let rawFirst: Percentiles
    (rawFirst, paired["get-first"]) = try await measurePair(iterations,
        raw: { var found: Int32 = 0; require(baseline_lookup(application, service, "raw-new-\(section)-\($0)", &found), "lookup") },
        wrapped: { _ = try await store.getItem("pair-new-\(section)-\($0)", options: options) })
    (rawClear, paired["delete"]) = try await measurePair(iterations,
        raw: { require(baseline_clear(application, service, "raw-new-\(section)-\($0)"), "clear") },
        wrapped: { try await store.deleteItem("pair-new-\(section)-\($0)", options: options) })
    require(baseline_clear(application, service, "raw-over"), "clear")
    try await store.deleteItem("pair-over", options: options)

    var perStore: [String: Percentiles] = [:]
    for (name, target) in [("secureStore", store), ("inMemory", memory)] {
        // Measured from a nonisolated task: what a caller off the main actor sees.
        let count = name == "inMemory" ? iterations * 100 : iterations
        perStore = try await Task.detached {
            var stats: [String: Percentiles] = [:]
            let keys = (0..<count).map { "new-\(section)-\($0)" }, misses = (0..<count).map { "missing-\($0)" }
            stats["set-new"] = try await measure(count) { try await target.setItem(keys[$0], value, options: options) }
            try await target.setItem("over", value, options: options)
            stats["set-overwrite"] = try await measure(count) { _ in try await target.setItem("over", value, options: options) }
            stats["get-hit"] = try await measure(count) { _ in _ = try await target.getItem("over", options: options) }
            stats["get-bytes-hit"] = try await measure(count) { _ in _ = try await target.getBytes("over", options: options) }
            stats["set-bytes-overwrite"] = try await measure(count) { _ in try await target.setBytes("over", Array(value.utf8), options: options) }
            stats["get-miss"] = try await measure(count) { _ = try await target.getItem(misses[$0], options: options) }
            stats["contains"] = try await measure(count) { _ in _ = try await target.containsItem("over", options: options) }
            stats["allKeys"] = try await measure(max(10, iterations / 10)) { _ in _ = try await target.allKeys(options: options) }
            stats["delete"] = try await measure(count) { try await target.deleteItem(keys[$0], options: options) }
            try await target.deleteItem("over", options: options)
            return stats
        }.value
        if name == "secureStore" { perStore.merge(paired) { _, pairedStats in pairedStats } }
        for (operation, stats) in perStore { results["\(section).\(name).\(operation)"] = stats.json }
        if name == "secureStore" {
            rows += [
                (section, "setItem (new key)", rawNew, perStore["set-new"], nil),
                (section, "setItem (overwrite)", rawOver, perStore["set-overwrite"], nil),
                (section, "getItem (hit, read before)", rawHit, perStore["get-hit"], nil),
                (section, "getBytes (hit)", rawBytesHit, perStore["get-bytes-hit"], nil),
                (section, "setBytes (overwrite)", rawBytesOver, perStore["set-bytes-overwrite"], nil),
                (section, "getItem (miss)", rawMiss, perStore["get-miss"], nil),
                (section, "getItem (first read of a key)", rawFirst, perStore["get-first"], nil),
                (section, "containsItem (miss) vs lookup miss", rawContainsMiss, perStore["contains-miss"], nil),
                (section, "deleteItem", rawClear, perStore["delete"], nil),
                (section, "containsItem (hit)", nil, perStore["contains"], nil),
                (section, "allKeys", nil, perStore["allKeys"], nil),
            ]
        } else {
            let order = ["set-new", "set-overwrite", "get-hit", "get-bytes-hit", "set-bytes-overwrite", "get-miss", "get-first",
                         "contains-miss", "delete", "contains", "allKeys"]
            for (index, operation) in order.enumerated() {
                let rowIndex = rows.count - order.count + index
                rows[rowIndex].inMemory = perStore[operation]
            }
        }
    }
    for (name, stats) in [("store-new", rawNew), ("store-overwrite", rawOver), ("lookup-hit", rawHit), ("lookup-miss", rawMiss), ("clear", rawClear),
                          ("lookup-miss-for-contains", rawContainsMiss), ("lookup-hit-first", rawFirst),
                          ("store-overwrite-for-bytes", rawBytesOver), ("lookup-hit-for-bytes", rawBytesHit)] {
        results["\(section).raw.\(name)"] = stats?.json
    }
}

try await operations(section: "small")

// MARK: - Concurrency, with a heartbeat on the cooperative pool

try await store.setItem("shared", "concurrent value", options: options)
var concurrency: [[String: Any]] = []
for tasks in [1, 4, 16, 64] {
    let calls = 512
    let heartbeat = Task { () -> Double in
        var longest = 0.0
        var last = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(1))
            let now = ContinuousClock.now
            longest = max(longest, microseconds(now - last) - 1000)
            last = now
        }
        return longest
    }
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<tasks {
            group.addTask {
                for _ in stride(from: task, to: calls, by: tasks) { _ = try await store.getItem("shared", options: options) }
            }
        }
        try await group.waitForAll()
    }
    let seconds = microseconds(ContinuousClock.now - start) / 1e6
    heartbeat.cancel()
    let stall = await heartbeat.value
    concurrency.append(["tasks": tasks, "calls_per_second": Double(calls) / seconds, "longest_heartbeat_stall_us": stall])
}
results["concurrency"] = concurrency

// MARK: - Scale: items already in the collection

var scale: [[String: Any]] = []
var filled = 0
for size in [100, 1000] {
    let fill = ContinuousClock.now
    let from = filled
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<4 {
            group.addTask {
                for index in stride(from: from + task, to: size, by: 4) {
                    try await store.setItem(String(format: "fill%05d", index), "filler \(index)", options: options)
                }
            }
        }
        try await group.waitForAll()
    }
    let fillSeconds = microseconds(ContinuousClock.now - fill) / 1e6
    filled = size
    let count = max(10, iterations / 4)
    let value = "scale value"
    require(baseline_store(application, service, "raw-scale", value), "store")
    try await store.setItem("scale", value, options: options)
    let (rawGet, get) = try await measurePair(count,
        raw: { _ in var found: Int32 = 0; require(baseline_lookup(application, service, "raw-scale", &found), "lookup") },
        wrapped: { _ in _ = try await store.getItem("scale", options: options) })
    let (rawSet, set) = try await measureOverwritePair(count,
        raw: { _ in require(baseline_store(application, service, "raw-scale", value), "store") },
        wrapped: { _ in try await store.setItem("scale", value, options: options) })
    require(baseline_clear(application, service, "raw-scale"), "clear")
    try await store.deleteItem("scale", options: options)
    // Not interleaved: libsecret's search leaves the daemon and the bus busy with the 1,000 item
    // proxies it built (and their signal subscriptions) well into the next call, which would
    // slow the allKeys after it. So allKeys first, then the search, with CPU per call.
    let repeats = 5
    var cpu = processCPUMicroseconds()
    var allKeys = try await Task.detached { try await measure(repeats) { _ in _ = try await store.allKeys(options: options) } }.value
    allKeys.cpu = (processCPUMicroseconds() - cpu) / Double(repeats)
    var searched: Int32 = 0
    cpu = processCPUMicroseconds()
    var librarySearch = await measure(repeats) { _ in require(baseline_search_all(application, service, &searched), "search") }
    librarySearch.cpu = (processCPUMicroseconds() - cpu) / Double(repeats)
    rows += [
        ("\(size) items", "getItem (hit)", rawGet, get, nil),
        ("\(size) items", "setItem (overwrite)", rawSet, set, nil),
        ("\(size) items", "allKeys vs libsecret search", librarySearch, allKeys, nil),
    ]
    scale.append([
        "items": size, "fill_seconds": fillSeconds, "raw_lookup": rawGet.json, "raw_store": rawSet?.json as Any,
        "getItem": get.json, "setItem": set.json, "allKeys": allKeys.json, "libsecret_search_all": librarySearch.json,
        "libsecret_search_found": searched,
    ])
}
results["scale"] = scale

// InMemoryBackend with 100,000 items.
for index in 0..<100_000 { try await memory.setItem("fill\(index)", "filler", options: options) }
let memoryGet = try await Task.detached {
    let keys = (0..<10_000).map { "fill\($0 * 7 % 100_000)" }
    return try await measure(10_000) { _ = try await memory.getItem(keys[$0], options: options) }
}.value
results["inMemory.100000.get"] = memoryGet.json
rows.append(("100,000 items", "InMemoryBackend getItem", nil, nil, memoryGet))

// Clean up what this run stored.
try await backend.deleteAll(options: SecureStoreOptions(keychainService: service, synchronizable: .any))

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let peakMiB = Double(usage.ru_maxrss) / 1024
results["peak_rss_mib"] = peakMiB

// MARK: - Report

func cell(_ stats: Percentiles?) -> String {
    guard let stats else { return "—" }
    return "\(format(stats.p50)) / \(format(stats.p90)) / \(format(stats.p99))"
}
print("SecureStore benchmark — \(iterations) calls per operation, one \(ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER"] ?? "gnome-keyring") service; p50 / p90 / p99")
print("")
print("| items | operation | raw libsecret (C) | SecureStore, Secret Service | ratio p50 | CPU per call, raw → SecureStore | InMemoryBackend |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for row in rows {
    let ratio = (row.raw.map { raw in row.secureStore.map { String(format: "%.2fx", $0.p50 / raw.p50) } ?? "—" }) ?? "—"
    let cpu = row.raw?.cpu.flatMap { raw in row.secureStore?.cpu.map { "\(format(raw)) → \(format($0))" } } ?? "—"
    print("| \(row.section) | \(row.operation) | \(cell(row.raw)) | \(cell(row.secureStore)) | \(ratio) | \(cpu) | \(cell(row.inMemory)) |")
}
print("")
print("| concurrent tasks | getItem calls/s | longest heartbeat stall |")
print("| --- | --- | --- |")
for entry in concurrency {
    print("| \(entry["tasks"]!) | \(String(format: "%.0f", entry["calls_per_second"] as! Double)) | \(format(entry["longest_heartbeat_stall_us"] as! Double)) |")
}
print("")
for entry in scale {
    print("filled to \(entry["items"]!) items in \(String(format: "%.1f", entry["fill_seconds"] as! Double)) s")
}
print(String(format: "peak resident memory: %.1f MiB", peakMiB))

let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
try data.write(to: URL(fileURLWithPath: jsonPath))
print("JSON: \(jsonPath)")
