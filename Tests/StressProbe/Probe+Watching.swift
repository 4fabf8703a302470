import Foundation
import SecureStore

extension Probe {
    /// `watch` and (with `ownWrites`) `watch-own-writes`: the changes the stream reports.
    func watch(ownWrites: Bool) async throws {
        let changes = try await store.changes()
        say("watching")
        if ownWrites {
            let writer = try SecureStore(applicationID: application, userInteraction: interaction, timeout: timeout)
            // Standard input is read on a thread of its own, not the cooperative pool's; one
            // write at a time, in order.
            Thread.detachNewThread {
                while let line = readLine() {
                    let words = line.split(separator: " ").map(String.init)
                    guard words.count == 3, words[0] == "set" else { say("? \(line)"); continue }
                    let written = DispatchSemaphore(value: 0)
                    Task {
                        do { try await writer.setItem(words[1], words[2]) } catch { say("set \(words[1]) !\(describe(error))") }
                        written.signal()
                    }
                    written.wait()
                }
            }
        }
        for await change in changes {
            switch change {
            case .added(let key): say("added \(key)")
            case .changed(let key): say("changed \(key)")
            case .removed(let key): say("removed \(key)")
            case .locked: say("locked")
            case .unlocked: say("unlocked")
            case .serviceUnavailable: say("service-unavailable")
            case .serviceAvailable: say("service-available")
            }
        }
        say("ended")
    }
}
