import Foundation
@_spi(SecureStoreInternal) import SecureStore

/// The probe's store, made from its command line (`--app`, `--timeout`, `--interaction`), which
/// every mode (one `Probe` method each) calls.
struct Probe: Sendable {
    let application = option("--app", "stress-probe")
    let timeout = Duration.seconds(Double(option("--timeout", "5"))!)
    let interaction: UserInteraction = CommandLine.arguments.contains("--interaction") ? .allowed : .notAllowed
    let store: SecureStore

    init() throws {
        store = try SecureStore(applicationID: application, userInteraction: interaction, timeout: timeout)
    }

    /// `--warm`: one getItem (which opens the connection), then the ready file, then a wait for
    /// the resume file, while the script does its harm.
    func warmUp() async throws {
        _ = try? await store.getItem("warm-up")
        _ = FileManager.default.createFile(atPath: option("--ready-file", "/nonexistent"), contents: nil)
        let resumeFile = option("--resume-file", "/nonexistent")
        // A test script that failed before resuming it must not leave this probe behind forever.
        let giveUp = ContinuousClock.now + .seconds(120)
        while !FileManager.default.fileExists(atPath: resumeFile) {
            guard ContinuousClock.now < giveUp else { say("never resumed"); exit(3) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Writes `key` and reads it back, printing "NAME=ok|wrong|CODE".
    func sayWhetherWritesWork(_ name: String, key: String) async {
        do {
            try await store.setItem(key, "fine")
            say("\(name)=" + (try await store.getItem(key) == "fine" ? "ok" : "wrong"))
        } catch {
            say("\(name)=\(describe(error))")
        }
    }
}

/// The value of the command-line option `name`, or `fallback`.
func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

/// Prints one line of the probe's report.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func milliseconds(since start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
}

/// An error as the probe reports it: its code, or what else it is.
func describe(_ error: any Error) -> String {
    (error as? SecureStoreError)?.code.rawValue ?? (error is CancellationError ? "CancellationError" : "untyped:\(type(of: error))")
}
