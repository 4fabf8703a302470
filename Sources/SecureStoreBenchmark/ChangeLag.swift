// How long after another process's write has returned `changes(options:)` reports it, with the
// keyring quiet and while other applications keep writing (4 processes at a time, 400 items).
import Foundation
import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// When each key was first reported added or changed.
private actor Arrivals {
    private var times: [String: ContinuousClock.Instant] = [:]
    func record(_ key: String) { if times[key] == nil { times[key] = .now } }
    func time(of key: String) -> ContinuousClock.Instant? { times[key] }
}

/// `count` writes by the `securestore` command to a watched service, one at a time, each
/// timed from the command's exit to the stream's report; with `churn`, four other processes
/// at a time keep writing 400 items of another application meanwhile. Prints p50 / p90.
func changeLag(count: Int, churn: Bool, store: SecureStore, application: String, securestore: String) async throws {
    let watched = SecureStoreOptions(keychainService: "watched")
    let arrivals = Arrivals()
    let stream = try await store.changes(options: watched)
    let consumer = Task {
        for await change in stream {
            switch change {
            case .added(let key), .changed(let key): await arrivals.record(key)
            default: break
            }
        }
    }
    defer { consumer.cancel() }
    let writers = Task {
        guard churn else { return }
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var index = 0
                    while !Task.isCancelled {
                        _ = try? await runToEnd(["/usr/bin/secret-tool", "store", "--label", "churn", "application", "churn-\(writer)",
                                            "key", "item\(index % 100)"], input: "churn value \(index)")
                        index += 1
                    }
                }
            }
        }
    }
    if churn { try await Task.sleep(for: .seconds(1)) }   // the churn under way first
    var lags: [Double] = [], missed = 0
    for index in 0..<count {
        let key = "lag-\(churn ? "churn" : "quiet")-\(index)"
        guard try await runToEnd([securestore, "set", key, "--app", application, "--service", "watched"], input: "v") == 0 else {
            print("the write of \(key) failed"); missed += 1; continue
        }
        let returned = ContinuousClock.now
        var arrived = await arrivals.time(of: key)
        while arrived == nil && ContinuousClock.now < returned + .seconds(5) {
            try await Task.sleep(for: .milliseconds(1))
            arrived = await arrivals.time(of: key)
        }
        guard let arrived else { missed += 1; continue }
        lags.append(arrived > returned ? microseconds(arrived - returned) : 0)
        try await Task.sleep(for: .milliseconds(100))
    }
    writers.cancel()
    await writers.value
    try await store.deleteAll(options: watched)
    for writer in 0..<4 {
        _ = try? await runToEnd(["/usr/bin/secret-tool", "clear", "application", "churn-\(writer)"], input: "")
    }
    let stats = Percentiles(lags.isEmpty ? [0] : lags)
    print("change lag, \(churn ? "4 other processes writing 400 items meanwhile" : "quiet keyring"): p50 \(format(stats.p50)), p90 \(format(stats.p90)) over \(lags.count) writes; \(missed) not reported within 5 s")
}
