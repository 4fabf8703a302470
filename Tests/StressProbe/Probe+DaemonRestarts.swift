import Foundation
import SecureStore

// The modes for the tests that kill, stop or replace the keyring daemon under a running client.
extension Probe {
    /// `writes`: see the usage in main.swift.
    func writeUntilResumed() async throws {
        let seconds = Double(option("--seconds", "3"))!
        let resumeFile = option("--resume-file", "/nonexistent")
        let readyFile = option("--ready-file", "/nonexistent")
        let feltFile = option("--felt-file", "/nonexistent")
        let tally = Tally()
        let end = ContinuousClock.now + .seconds(seconds)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var index = 0
                    // Until the script resumes the probe (or, at the latest, for --seconds).
                    while ContinuousClock.now < end && !FileManager.default.fileExists(atPath: resumeFile) {
                        let key = "w\(task)-\(index)", value = "value \(task) \(index) ✓"
                        index += 1
                        let start = ContinuousClock.now
                        do {
                            try await store.setItem(key, value)
                            await tally.wrote(key, value)
                            // The script waits for a write that worked before it kills the daemon.
                            _ = FileManager.default.createFile(atPath: readyFile, contents: nil)
                        } catch {
                            await tally.failed(describe(error), milliseconds(since: start))
                            // The script waits for a failure before it starts a new daemon.
                            _ = FileManager.default.createFile(atPath: feltFile, contents: nil)
                            try? await Task.sleep(for: .milliseconds(20))
                        }
                    }
                }
            }
        }
        while !FileManager.default.fileExists(atPath: resumeFile) { try await Task.sleep(for: .milliseconds(50)) }
        var mismatched = 0
        let written = await tally.written
        for (key, value) in written {
            var read: String??
            // The new daemon may still be settling, for seconds on a loaded machine under a sanitizer.
            for _ in 0..<40 where read == nil {
                read = try? await store.getItem(key)
                if read == nil { try await Task.sleep(for: .milliseconds(250)) }
            }
            if read != .some(.some(value)) { mismatched += 1 }
        }
        say("verified=\(written.count - mismatched)")
        say("mismatched=\(mismatched)")
        say("failures=" + (await tally.failures).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
        say("slowest-failure-ms=\(await tally.slowestFailure)")
        await sayWhetherWritesWork("after-restart", key: "after-restart")
    }

    /// `down`: calls against a daemon that is gone.
    func callWhileDown() async throws {
        let interval = Int(option("--interval-ms", "0"))!
        for _ in 0..<Int(option("--count", "5"))! {
            if interval > 0 { try await Task.sleep(for: .milliseconds(interval)) }
            let start = ContinuousClock.now
            do {
                if CommandLine.arguments.contains("--write") {
                    try await store.setItem(option("--key", "anything"), "new value")
                    say("outcome=written ms=\(milliseconds(since: start))")
                } else {
                    let value = try await store.getItem(option("--key", "anything"))
                    say("outcome=\(value == nil ? "nil" : "value") ms=\(milliseconds(since: start))")
                }
            } catch {
                say("outcome=\(describe(error)) ms=\(milliseconds(since: start))")
            }
        }
        let start = ContinuousClock.now
        let available = await store.isAvailable()
        say("available=\(available) ms=\(milliseconds(since: start))")
    }

    /// `idle-restart`: a read and a write after the daemon was replaced during the warm-up pause.
    func readAndWriteAfterIdleRestart() async {
        do {
            say("read=" + (try await store.getItem("token") ?? "nil"))
        } catch {
            say("read=\(describe(error))")
        }
        await sayWhetherWritesWork("write", key: "after")
    }

    /// `write-once`.
    func writeOnce() async {
        await sayWhetherWritesWork("write", key: "k")
    }

    /// `available`.
    func sayWhetherAvailable() async {
        say("available=\(await store.isAvailable())")
    }
}

/// The writes of `writeUntilResumed` that reported success, and its failures.
actor Tally {
    var written: [String: String] = [:]
    var failures: [String: Int] = [:]
    var slowestFailure = 0
    func wrote(_ key: String, _ value: String) { written[key] = value }
    func failed(_ code: String, _ milliseconds: Int) {
        failures[code, default: 0] += 1
        slowestFailure = max(slowestFailure, milliseconds)
    }
}
