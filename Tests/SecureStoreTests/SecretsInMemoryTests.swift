import Foundation
import Testing
@testable import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// The README's "Secrets in memory", checked: after a `setBytes` and a `getBytes` whose caller
/// zeroes its own arrays, the plaintext is nowhere in the process's writable memory.
@Suite("Secrets in memory", TestSelection(), .tags(.keyring),
       .disabled(if: Slack.scale > 1, "Under a sanitizer the writable mappings include terabytes of shadow memory; Scripts/test runs this suite."))
struct SecretsInMemoryTests {
    /// The secret, never held whole except in the arrays the test zeroes: `masked` XOR `mask`.
    struct Needle {
        let mask = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let masked = (0..<32).map { _ in UInt8.random(in: 0...255) }

        /// A fresh array holding the plaintext, for the caller to zero.
        func plaintext() -> [UInt8] { zip(masked, mask).map { $0 ^ $1 } }

        func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
            for index in 0..<32 where bytes[offset + index] != masked[index] ^ mask[index] { return false }
            return true
        }
    }

    static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// Where the plaintext occurs in the process's writable mappings (by mapping name, never by
    /// content), read through /proc/self/mem into one buffer that is zeroed after each chunk.
    static func occurrences(of needle: Needle) throws -> [String] {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        let memory = open("/proc/self/mem", O_RDONLY)
        try #require(memory >= 0)
        defer { close(memory) }
        let chunkSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize + 32, alignment: 16)
        defer { buffer.deallocate() }
        var found: [String] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
            guard bounds.count == 2 else { continue }
            let name = fields.count >= 6 ? String(fields[5]) : "[anonymous]"
            var start = bounds[0]
            while start < bounds[1] {
                // Overlap chunks by 31 bytes so that no occurrence is cut in two.
                let length = Int(min(UInt(chunkSize + 31), bounds[1] - start))
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
                let read = pread(memory, buffer.baseAddress, length, off_t(Int64(bitPattern: UInt64(start))))
                if read >= 32 {
                    let view = UnsafeRawBufferPointer(rebasing: buffer[0..<Int(read)])
                    for offset in 0...(Int(read) - 32) where view[offset] == needle.masked[0] ^ needle.mask[0] && needle.matches(view, at: offset) {
                        found.append(name)
                    }
                }
                start += UInt(chunkSize)
            }
        }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        return found
    }

    @Test func theScanFindsAPlaintextThatIsStillThere() throws {
        let needle = Needle()
        var kept = needle.plaintext()
        #expect(try !Self.occurrences(of: needle).isEmpty, "the scan must see a live copy")
        Self.zero(&kept)
        #expect(try Self.occurrences(of: needle).isEmpty)
    }

    @Test func afterSetBytesAndGetBytesThePlaintextIsNowhere() async throws {
        try await withFixture(.secretService) { fixture async throws in
            let store = fixture.store()
            let needle = Needle()
            var value = needle.plaintext()
            try await store.setBytes("secret", value)
            Self.zero(&value)
            for _ in 0..<10 {
                var read = try #require(try await store.getBytes("secret"))
                #expect(read.count == 32 && read.withUnsafeBytes { needle.matches($0, at: 0) })
                Self.zero(&read)
            }
            let found = try Self.occurrences(of: needle)
            #expect(found.isEmpty, "the plaintext is still in \(found)")
        }
    }
}
