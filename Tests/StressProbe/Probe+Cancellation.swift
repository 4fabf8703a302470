import Foundation
import SecureStore

extension Probe {
    /// `cancel`: a write (or a read) cancelled while under way.
    func cancelACall() async throws {
        let after = Int(option("--after-ms", "100"))!
        let start = ContinuousClock.now
        let reading = CommandLine.arguments.contains("--read")
        let operation = Task {
            if reading { _ = try await store.getItem("target") } else { try await store.setItem("target", "new value") }
        }
        try await Task.sleep(for: .milliseconds(after))
        operation.cancel()
        switch await operation.result {
        case .success: say(reading ? "outcome=read" : "outcome=written")
        case .failure(let error): say("outcome=\(describe(error))")
        }
        say("milliseconds=\(milliseconds(since: start) - after)")
    }
}
