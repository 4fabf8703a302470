// How the benchmark measures: percentiles, CPU time per call, and calls timed one after
// another or paired with libsecret's own.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This process's CPU time (all threads), user and system, in microseconds.
func processCPU() -> (user: Double, system: Double) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return (Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec),
            Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec))
}

func processCPUMicroseconds() -> Double {
    let cpu = processCPU()
    return cpu.user + cpu.system
}

/// Latency percentiles, in microseconds, and (for paired measurements) CPU time per call.
struct Percentiles {
    var p50: Double, p90: Double, p99: Double
    var cpu: Double?

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
        p50 = at(0.50); p90 = at(0.90); p99 = at(0.99)
    }

    var json: [String: Double] {
        var json = ["p50_us": p50, "p90_us": p90, "p99_us": p99]
        if let cpu { json["cpu_us_per_call"] = cpu }
        return json
    }
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

/// Times `count` calls of `body(index)`, one after another, in the caller's isolation (so that
/// measuring from a nonisolated task adds no executor hops to the calls).
func measure(
    _ count: Int, isolation: isolated (any Actor)? = #isolation, _ body: (Int) async throws -> Void
) async rethrows -> Percentiles {
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for index in 0..<count {
        let start = ContinuousClock.now
        try await body(index)
        samples.append(microseconds(ContinuousClock.now - start))
    }
    return Percentiles(samples)
}

/// Times `raw` and `wrapped` alternately, one call of each per round, so that the daemon's
/// drift (its file grows, the machine is busy) falls on both sides alike. Runs off the main
/// actor (a nonisolated async function), so that neither side pays a hop back to the main
/// thread: the blocking C call never would.
func measurePair(
    _ count: Int, raw: @Sendable (Int) async throws -> Void, wrapped: @Sendable (Int) async throws -> Void
) async rethrows -> (raw: Percentiles, wrapped: Percentiles) {
    var rawSamples: [Double] = [], wrappedSamples: [Double] = []
    var rawCPU = 0.0, wrappedCPU = 0.0
    for index in 0..<count {
        var cpu = processCPUMicroseconds()
        var start = ContinuousClock.now
        try await raw(index)
        rawSamples.append(microseconds(ContinuousClock.now - start))
        rawCPU += processCPUMicroseconds() - cpu
        cpu = processCPUMicroseconds()
        start = ContinuousClock.now
        try await wrapped(index)
        wrappedSamples.append(microseconds(ContinuousClock.now - start))
        wrappedCPU += processCPUMicroseconds() - cpu
    }
    var rawStats = Percentiles(rawSamples), wrappedStats = Percentiles(wrappedSamples)
    rawStats.cpu = rawCPU / Double(count)
    wrappedStats.cpu = wrappedCPU / Double(count)
    return (rawStats, wrappedStats)
}

/// KeePassXC 2.7.4 answers libsecret's own overwrite (`CreateItem` with replace) with an
/// "Access Request" dialog that nobody answers here (fixed in 2.7.6): there, overwrites are
/// measured for SecureStore alone, and their raw column stays empty.
let rawCanOverwrite = ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER"] != "keepassxc"

/// `measurePair` for an overwrite, or just the wrapped side where the raw one cannot run.
func measureOverwritePair(
    _ count: Int, raw: @Sendable (Int) async throws -> Void, wrapped: @Sendable (Int) async throws -> Void
) async rethrows -> (raw: Percentiles?, wrapped: Percentiles) {
    if rawCanOverwrite { return try await measurePair(count, raw: raw, wrapped: wrapped) }
    return (nil, try await measure(count, isolation: nil, wrapped))
}

func require(_ status: Int32, _ what: String) {
    if status != 0 { FileHandle.standardError.write(Data("baseline call failed: \(what)\n".utf8)); exit(1) }
}

/// A duration in microseconds as people read it.
func format(_ value: Double) -> String {
    value >= 10_000 ? String(format: "%.1f ms", value / 1000) : value >= 1000 ? String(format: "%.2f ms", value / 1000) : String(format: "%.1f µs", value)
}

/// Runs `arguments` with `input` on standard input and its output dropped; returns its exit
/// status once it has ended, without blocking a thread of the pool.
func runToEnd(_ arguments: [String], input: String) async throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    let pipe = Pipe()
    process.standardInput = pipe
    return try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
}
