import Foundation
import SecureStore

// The modes for the tests of many items and many calls at once.
extension Probe {
    /// `bulk`: one service filled with many items, listed, sampled and deleted.
    func fillListAndDeleteAll() async throws {
        let count = Int(option("--count", "1000"))!
        let options = SecureStoreOptions(keychainService: "bulk")
        var start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for index in stride(from: task, to: count, by: 4) {
                        do { try await store.setItem(String(format: "item%05d", index), "value \(index)", options: options) }
                        catch { say("fill-error=\(describe(error))") }
                    }
                }
            }
        }
        say("fill-ms=\(milliseconds(since: start))")
        start = ContinuousClock.now
        let keys = try await store.allKeys(options: options)
        say("allKeys-ms=\(milliseconds(since: start))")
        say("allKeys-count=\(keys.count)")
        say("allKeys-sorted-and-complete=\(keys == (0..<count).map { String(format: "item%05d", $0) })")
        var wrong = 0
        for index in stride(from: 0, to: count, by: max(1, count / 50)) {
            if try await store.getItem(String(format: "item%05d", index), options: options) != "value \(index)" { wrong += 1 }
        }
        say("sample-wrong=\(wrong)")
        start = ContinuousClock.now
        do {
            try await store.deleteAll(options: options)
            say("deleteAll=ok")
        } catch {
            say("deleteAll=\(describe(error))")
        }
        say("deleteAll-ms=\(milliseconds(since: start))")
        say("after-deleteAll=\(try await store.allKeys(options: options).count)")
    }

    /// `busy-available`: whether `isAvailable` answers before the writes queued ahead of it are done.
    func askAvailabilityBehindQueuedWrites() async throws {
        // Whether isAvailable answers before the writes queued ahead of it are done.
        _ = await store.isAvailable()
        let queued = 800
        let finished = FinishedCount()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<queued {
                    group.addTask { try? await store.setItem("busy\(index)", "v"); await finished.add() }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        let available = await store.isAvailable()
        let finishedBefore = await finished.count
        say("available=\(available) ms=\(milliseconds(since: start))")
        say("writes-queued=\(queued)")
        say("writes-finished-before=\(finishedBefore)")
        writers.cancel()
        exit(0)
    }
}

/// How many of a group's tasks have finished.
actor FinishedCount {
    private(set) var count = 0
    func add() { count += 1 }
}
