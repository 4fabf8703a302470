import Foundation
import Testing
@testable import SecureStore

/// Bytes as values: stored and returned exactly, never changed on the way.
extension BackendContractTests {
    /// Random bytes of every length from 0 to 4 KiB round-trip exactly (every padding of the
    /// transfer session's AES blocks, many times over), then the maximum and one over.
    @Test(arguments: BackendKind.allCases)
    func randomBytesOfEveryLengthRoundTripExactly(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            // Eight keys overwritten in turn keep the keyring small, so each write stays cheap.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        var generator = SystemRandomNumberGenerator()
                        for length in stride(from: lane, through: 4096, by: 8) {
                            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                            try await store.setBytes("bytes\(lane)", bytes)
                            let read = try await store.getBytes("bytes\(lane)")
                            #expect(read == bytes, "length \(length)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let largest = (0..<SecureStore.maximumValueSize).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
            try await store.setBytes("largest", largest)
            #expect(try await store.getBytes("largest") == largest)
            let error = await secureStoreError { try await store.setBytes("largest", largest + [0]) }
            #expect(error?.code == .valueTooLarge)
            #expect(try await store.getBytes("largest") == largest, "a rejected write loses nothing")
        }
    }

    /// Bytes that are not UTF-8: the string API refuses them with a typed error that holds
    /// none of them, and changes nothing; the bytes API returns them exactly.
    @Test(arguments: BackendKind.allCases)
    func bytesThatAreNotUTF8AreAnErrorAsAStringAndExactAsBytes(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            let notUTF8: [[UInt8]] = [
                [0x63, 0x61, 0x66, 0xE9],            // "café" in Latin-1
                [0xFF], [0x80], [0xC0, 0x80],         // stray continuation, overlong NUL
                [0xED, 0xA0, 0x80],                   // a UTF-16 surrogate
                [0xF4, 0x90, 0x80, 0x80],             // past U+10FFFF
                [0x61, 0x00, 0xE2, 0x82],             // truncated sequence after a NUL
            ]
            for (index, bytes) in notUTF8.enumerated() {
                try await store.setBytes("raw\(index)", bytes)
                let error = await secureStoreError { _ = try await store.getItem("raw\(index)") }
                #expect(error?.code == .valueNotUTF8, "value \(index)")
                #expect(error?.message.contains("getBytes") == true)
                #expect(try await store.getBytes("raw\(index)") == bytes, "value \(index) unchanged")
            }
        }
    }

    /// A string stored reads back through the bytes API as its UTF-8, and bytes that are
    /// UTF-8 read back as the string.
    @Test(arguments: BackendKind.allCases)
    func stringsAndBytesAreTheSameValueSeenTwoWays(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for (index, value) in Self.values.enumerated() {
                try await store.setItem("text\(index)", value)
                #expect(try await store.getBytes("text\(index)") == Array(value.utf8), "value \(index)")
                try await store.setBytes("utf8\(index)", Array(value.utf8))
                #expect(try await store.getItem("utf8\(index)") == value, "value \(index)")
            }
            #expect(try await store.getBytes("missing") == nil)
            let error = await secureStoreError { try await store.setBytes("bad key", [1, 2]) }
            #expect(error?.code == .invalidKey)
        }
    }
}
