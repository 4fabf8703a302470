import CLibsecretBaseline
import Foundation
import SecureStore

// One operation at a time, in a small collection: SecureStore against libsecret's own calls,
// interleaved, and against InMemoryBackend.
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
    // libsecret's overwrite and lookup of one key, which the string and the bytes API both meet.
    let rawOverwrite: @Sendable (Int) -> Void = { _ in require(baseline_store(application, service, "raw-over", value), "store") }
    let rawLookup: @Sendable (Int) -> Void = { _ in var found: Int32 = 0; require(baseline_lookup(application, service, "raw-over", &found), "lookup") }
    rawOverwrite(0)
    try await store.setItem("pair-over", value, options: options)
    (rawOver, paired["set-overwrite"]) = try await measureOverwritePair(iterations, raw: rawOverwrite,
        wrapped: { _ in try await store.setItem("pair-over", value, options: options) })
    (rawHit, paired["get-hit"]) = try await measurePair(iterations, raw: rawLookup,
        wrapped: { _ in _ = try await store.getItem("pair-over", options: options) })
    // The bytes API against the same raw calls: it should cost what the string API costs.
    let bytes = Array(value.utf8)
    let rawBytesOver: Percentiles?, rawBytesHit: Percentiles
    (rawBytesOver, paired["set-bytes-overwrite"]) = try await measureOverwritePair(iterations, raw: rawOverwrite,
        wrapped: { _ in try await store.setBytes("pair-over", bytes, options: options) })
    (rawBytesHit, paired["get-bytes-hit"]) = try await measurePair(iterations, raw: rawLookup,
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
