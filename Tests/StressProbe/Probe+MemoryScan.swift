import Foundation
import SecureStore

extension Probe {
    /// `memory-scan`: a live copy must be seen (the scan works), and after `setBytes` and
    /// `getBytes` whose arrays are zeroed, the plaintext must be nowhere.
    func scanMemory() async throws {
        // A live copy must be seen (the scan works), and after setBytes and getBytes whose arrays
        // are zeroed, the plaintext must be nowhere.
        let control = MemoryScan.Needle()
        var kept = control.plaintext()
        say("control=\(try MemoryScan.occurrences(of: control).count)")
        MemoryScan.zero(&kept)
        say("control-zeroed=\(try MemoryScan.occurrences(of: control).count)")
        let needle = MemoryScan.Needle()
        var value = needle.plaintext()
        try await store.setBytes("secret", value)
        MemoryScan.zero(&value)
        var readsOK = 0
        for _ in 0..<10 {
            guard var read = try await store.getBytes("secret") else { break }
            if read.count == 32 && read.withUnsafeBytes({ needle.matches($0, at: 0) }) { readsOK += 1 }
            MemoryScan.zero(&read)
        }
        try await store.deleteItem("secret")
        say("reads=\(readsOK)")
        let found = try MemoryScan.occurrences(of: needle)
        say("after=\(found.count) in=\(found.joined(separator: ","))")
    }
}
