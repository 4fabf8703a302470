import CLibsecretBaseline
import Foundation
import SecureStore

/// getItem, an overwrite and allKeys against libsecret with 100 and 1,000 items already in the
/// collection (the table's rows; returns what the JSON keeps), then InMemoryBackend with 100,000.
@MainActor func measureScale() async throws -> [[String: Any]] {
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

    // InMemoryBackend with 100,000 items.
    for index in 0..<100_000 { try await memory.setItem("fill\(index)", "filler", options: options) }
    let memoryGet = try await Task.detached {
        let keys = (0..<10_000).map { "fill\($0 * 7 % 100_000)" }
        return try await measure(10_000) { _ = try await memory.getItem(keys[$0], options: options) }
    }.value
    results["inMemory.100000.get"] = memoryGet.json
    rows.append(("100,000 items", "InMemoryBackend getItem", nil, nil, memoryGet))
    return scale
}
