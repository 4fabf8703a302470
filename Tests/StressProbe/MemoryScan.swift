import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The probe's scan of its own writable memory, for `StressProbe memory-scan`: in a process of
/// its own, so that nothing else allocates, frees or reads while it looks.
enum MemoryScan {
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

    /// Where the plaintext occurs in the process's writable mappings, read through /proc/self/mem
    /// into one buffer that is zeroed after each read: the mapping's name, the offset in it, and
    /// the 16 bytes before the occurrence (an allocator's or an array's header, never content),
    /// so that a failure says what kind of memory held the copy.
    static func occurrences(of needle: Needle) throws -> [String] {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        let memory = open("/proc/self/mem", O_RDONLY)
        guard memory >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(memory) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize + 32, alignment: 16)
        defer {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.deallocate()
        }
        var found: [String] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt(String($0), radix: 16) }
            guard bounds.count == 2 else { continue }
            let name = fields.count >= 6 ? String(fields[5]) : "[anonymous]"
            found += scan(bounds[0]..<bounds[1], pieces: chunkSize, memory, buffer, needle).map { offset, header in
                "\(name)+0x\(String(offset, radix: 16)) header=\(header)"
            }
        }
        return found
    }

    static let chunkSize = 1 << 20
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Where the plaintext occurs in `range` (offsets from its start, each with the 16 bytes
    /// before it in hex), read in pieces that overlap by 31 bytes so that no occurrence is cut in
    /// two. A piece that cannot be read whole (another thread's allocator gave pages back since
    /// the maps were read) is read again page by page.
    static func scan(_ range: Range<UInt>, pieces: Int, _ memory: Int32, _ buffer: UnsafeMutableRawBufferPointer,
                     _ needle: Needle) -> [(offset: UInt, header: String)] {
        var found: [(offset: UInt, header: String)] = []
        for start in stride(from: range.lowerBound, to: range.upperBound, by: pieces) {
            let length = Int(min(UInt(pieces + 31), range.upperBound - start))
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            let read = pread(memory, buffer.baseAddress, length, off_t(Int64(bitPattern: UInt64(start))))
            if read < length && pieces > pageSize {
                found += scan(start..<min(start + UInt(pieces), range.upperBound), pieces: pageSize, memory, buffer, needle)
                continue
            }
            guard read >= 32 else { continue }
            // memchr finds the candidates for the first byte; a debug build's loop over every
            // byte would take minutes over a whole process.
            let view = UnsafeRawBufferPointer(rebasing: buffer[0..<Int(read)])
            let first = Int32(needle.masked[0] ^ needle.mask[0])
            var offset = 0
            while offset <= Int(read) - 32, let hit = memchr(view.baseAddress! + offset, first, Int(read) - 31 - offset) {
                offset = view.baseAddress!.distance(to: UnsafeRawPointer(hit))
                if needle.matches(view, at: offset) {
                    let header = view[max(0, offset - 16)..<offset].map { String(format: "%02x", $0) }.joined()
                    found.append((start - range.lowerBound + UInt(offset), header))
                }
                offset += 1
            }
        }
        return found
    }

}
