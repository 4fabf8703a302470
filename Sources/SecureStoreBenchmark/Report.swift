import Foundation

// The table the benchmark prints, and its JSON.

/// Prints the table of `rows`, the concurrency and scale results, and peak memory; writes
/// `results` as JSON to `jsonPath`.
@MainActor func report(concurrency: [[String: Any]], scale: [[String: Any]], peakMiB: Double) throws {
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
}
