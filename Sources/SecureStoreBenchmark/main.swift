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

try await operations(section: "small")
let concurrency = try await measureConcurrency()
results["concurrency"] = concurrency
let scaleResults = try await measureScale()
results["scale"] = scaleResults

// Clean up what this run stored.
try await backend.deleteAll(options: SecureStoreOptions(keychainService: service, synchronizable: .any))

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let peakMiB = Double(usage.ru_maxrss) / 1024
results["peak_rss_mib"] = peakMiB

try report(concurrency: concurrency, scale: scaleResults, peakMiB: peakMiB)
