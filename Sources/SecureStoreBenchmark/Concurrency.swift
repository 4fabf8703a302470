import Foundation
import SecureStore

/// getItem calls per second from 1, 4, 16 and 64 tasks at once, with the longest stall of a
/// heartbeat task on the cooperative pool meanwhile.
@MainActor func measureConcurrency() async throws -> [[String: Any]] {
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
    return concurrency
}
