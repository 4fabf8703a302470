import Foundation
@_spi(SecureStoreInternal) import SecureStore
import Synchronization

// The modes for the tests of what a process reads while others (or its own tasks) write.
extension Probe {
    /// `reader`: reads and deletes as standard input asks.
    func readWhatStandardInputAsks() async {
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "get" where words.count == 2:
                do {
                    say("\(words[1]) \(try await store.getItem(words[1]) ?? "nil")")
                } catch {
                    say("\(words[1]) !\(describe(error))")
                }
            case "delete" where words.count == 2:
                do {
                    try await store.deleteItem(words[1])
                    say("\(words[1]) deleted")
                } catch {
                    say("\(words[1]) !\(describe(error))")
                }
            case "stats":
                #if canImport(CLibSecret)
                say("remembered=\(SecretServiceBackend.rememberedReads) lock-recalled=\(SecretServiceBackend.recalledLockStates)")
                #endif
            default:
                say("? \(line)")
            }
        }
    }

    /// `writer`: rounds of writes to keys other writers share, each read back.
    func writeSharedKeys() async throws {
        let tag = option("--tag", "p"), rounds = Int(option("--rounds", "10"))!, keys = Int(option("--keys", "5"))!
        var foreign = 0
        for round in 0..<rounds {
            for key in 0..<keys {
                try await store.setItem("shared\(key)", "\(tag)-\(round)")
                let read = try await store.getItem("shared\(key)")
                // Any writer's value has the shape TAG-ROUND with a round in range.
                if let read, let round = read.split(separator: "-").last.flatMap({ Int($0) }), (0..<rounds).contains(round) {} else { foreign += 1 }
            }
        }
        say("foreign=\(foreign)")
    }

    /// `read-during-write`: reads of a key while it is overwritten.
    func readDuringAnOverwrite() async throws {
        try await store.setItem("k", "old")
        let overwriting = Flag()
        let overwrite = Task {
            defer { overwriting.lower() }
            do {
                try await store.setItem("k", "new")
                return "ok"
            } catch {
                return describe(error)
            }
        }
        let (reads, foreign) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var reads = 0, foreign = 0
                    repeat {
                        let read = try await store.getItem("k")
                        reads += 1
                        if read != "old" && read != "new" { foreign += 1 }
                    } while overwriting.isRaised
                    return (reads, foreign)
                }
            }
            var total = (0, 0)
            for try await (reads, foreign) in group { total = (total.0 + reads, total.1 + foreign) }
            return total
        }
        say("write=\(await overwrite.value)")
        say("reads=\(reads)")
        say("foreign=\(foreign)")
    }
}

/// Raised until lowered, once.
final class Flag: Sendable {
    private let raised = Mutex(true)
    var isRaised: Bool { raised.withLock { $0 } }
    func lower() { raised.withLock { $0 = false } }
}
