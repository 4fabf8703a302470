import Foundation
import Testing
@testable import SecureStore

/// A small seeded generator, so a failing random case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Unicode scalars from every range a value or key may draw from, surrogates excluded (a Swift
/// String cannot hold them).
enum ScalarRanges {
    static let all: [ClosedRange<UInt32>] = [
        0x00...0x1F, 0x20...0x7E, 0x7F...0x9F, 0xA0...0xFF, 0x100...0x7FF, 0x800...0xD7FF,
        0xE000...0xF8FF, 0xF900...0xFFFF, 0x1_0000...0x1_FFFF, 0x2_0000...0xE_FFFF, 0xF_0000...0x10_FFFF,
    ]

    static func randomString(length: Int, using generator: inout SeededGenerator) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            let range = all.randomElement(using: &generator)!
            scalars.append(Unicode.Scalar(UInt32.random(in: range, using: &generator))!)
        }
        return String(scalars)
    }
}

@Suite("Hostile input", TestSelection(), .tags(.everyProvider, .sandbox, .headless))
struct HostileInputTests {
    /// The rule as Expo states it, as a regular expression: the oracle the validator must match.
    static func oracleAccepts(_ key: String) -> Bool {
        key.wholeMatch(of: try! Regex("^[A-Za-z0-9._-]+$")) != nil
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func theValidatorAgreesWithTheRegexOnRandomInput(seed: UInt64) async {
        let disagreements = await offThePool { () -> [String] in
            var generator = SeededGenerator(state: seed)
            let allowed = Array("abcxyzABCXYZ0189._-")
            var disagreements: [String] = []
            for round in 0..<3000 {
                let key: String
                switch round % 4 {
                case 0: // random bytes, decoded as UTF-8 (invalid sequences become U+FFFD)
                    let bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    key = String(decoding: bytes, as: UTF8.self)
                case 1: // scalars from every plane
                    key = ScalarRanges.randomString(length: Int.random(in: 0...8, using: &generator), using: &generator)
                case 2: // mostly valid, sometimes one foreign scalar
                    var characters = (0..<Int.random(in: 1...16, using: &generator)).map { _ in allowed.randomElement(using: &generator)! }
                    if Bool.random(using: &generator) {
                        let foreign = ScalarRanges.randomString(length: 1, using: &generator)
                        characters.insert(contentsOf: foreign, at: Int.random(in: 0...characters.count, using: &generator))
                    }
                    key = String(characters)
                default: // overlong
                    key = String(repeating: allowed.randomElement(using: &generator)!, count: Int.random(in: 1_000...100_000, using: &generator))
                        + (Bool.random(using: &generator) ? "" : " ")
                }
                if Validation.isValidKey(key) != Self.oracleAccepts(key) {
                    disagreements.append("seed \(seed) round \(round): \(key.prefix(40).debugDescription)")
                }
            }
            return disagreements
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}

extension BackendContractTests {
    @Test(arguments: BackendKind.allCases)
    func randomValuesFromEveryScalarRangeRoundTripOrFailCleanly(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            var generator = SeededGenerator(state: 42)
            // Small values from every range, NULs included.
            for index in 0..<40 {
                let value = ScalarRanges.randomString(length: Int.random(in: 0...64, using: &generator), using: &generator)
                    + (index % 3 == 0 ? "\u{0}" : "")
                try await store.setItem("random\(index)", value)
                let read = try await store.getItem("random\(index)")
                #expect(read.map { Array($0.utf8) } == Array(value.utf8), "value \(index), seed 42")
            }
            // At the maximum, exactly, in 4-byte scalars from the supplementary planes.
            var large = ScalarRanges.randomString(length: SecureStore.maximumValueSize / 8, using: &generator)
            while large.utf8.count < SecureStore.maximumValueSize { large.unicodeScalars.append("x") }
            while large.utf8.count > SecureStore.maximumValueSize { large.unicodeScalars.removeLast() }
            while large.utf8.count < SecureStore.maximumValueSize { large.unicodeScalars.append("y") }
            #expect(large.utf8.count == SecureStore.maximumValueSize)
            try await store.setItem("large", large)
            #expect(try await store.getItem("large").map { Array($0.utf8) } == Array(large.utf8))
            // Just over it, by one to four bytes: rejected, and the stored value is untouched.
            for extra in ["z", "é", "€", "🔑"] {
                let error = await secureStoreError { try await store.setItem("large", large + extra) }
                #expect(error?.code == .valueTooLarge)
            }
            #expect(try await store.getItem("large").map(\.utf8.count) == SecureStore.maximumValueSize)
        }
    }

    static let oddNames = [
        "mail", "mail ", " mail", "Mail", "MAIL", "mail*", "*", "%", "mail%", "?", "mail\\",
        "m\u{430}il", "'", "\"", "a=b", "a;b", "🔑", "mail/../other", ".", "..", "\u{200B}", "mail\u{FEFF}",
    ]

    @Test(arguments: BackendKind.allCases)
    func oddServiceNamesCannotReachOtherServices(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let store = fixture.store()
            for (index, service) in Self.oddNames.enumerated() {
                try await store.setItem("k", "value \(index)", options: SecureStoreOptions(keychainService: service))
            }
            for (index, service) in Self.oddNames.enumerated() {
                let options = SecureStoreOptions(keychainService: service)
                #expect(try await store.getItem("k", options: options) == "value \(index)", "\(service.debugDescription)")
                #expect(try await store.allKeys(options: options) == ["k"])
            }
            // Deleting the "wildcard-looking" services removes only their own items.
            for service in ["*", "%", "?", "mail*"] {
                try await store.deleteAll(options: SecureStoreOptions(keychainService: service))
            }
            for (index, service) in Self.oddNames.enumerated() where !["*", "%", "?", "mail*"].contains(service) {
                #expect(try await store.getItem("k", options: SecureStoreOptions(keychainService: service)) == "value \(index)")
            }
        }
    }

    @Test(arguments: BackendKind.allCases)
    func oddApplicationIDsCannotReachOtherApplications(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let names = ["app", "app ", "App", "*", "%", "ap", "app.x", "\u{430}pp"]
            for (index, name) in names.enumerated() {
                try await fixture.store(name).setItem("k", "value \(index)")
            }
            for (index, name) in names.enumerated() {
                let store = fixture.store(name)
                #expect(try await store.getItem("k") == "value \(index)", "\(name.debugDescription)")
                #expect(try await store.allKeys() == ["k"])
            }
            try await fixture.store("*").deleteAll()
            try await fixture.store("%").deleteItem("k")
            #expect(try await fixture.store("app").getItem("k") == "value 0")
            #expect(try await fixture.store("App").getItem("k") == "value 2")
        }
    }
}
