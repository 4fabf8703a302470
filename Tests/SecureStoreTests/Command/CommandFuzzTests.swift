import Foundation
import Testing
@testable import SecureStore
@testable import securestore

/// Random arguments and byte streams against the command's parser and input handling: no trap,
/// only documented outcomes, no value on standard error. Seeded (`SeededGenerator`), so a
/// failure repeats.
@Suite("Command fuzzing", TestSelection())
struct CommandFuzzTests {
    /// 100,000 rounds of each in-process fuzzer (300 whole invocations); a tenth under a
    /// sanitizer, where each round costs tens of times more (Scripts/test runs them all).
    static let rounds = TimeScale.factor > 1 ? 10_000 : 100_000

    static let words = [
        "set", "get", "delete", "list", "clear", "exists", "migrate", "help", "-h", "--help", "--app", "--service",
        "--access-group", "--accessible", "--synchronizable", "--no-interaction", "--timeout", "--json", "--raw",
        "--stop-after", "--", "-", "--=", "--timeout=", "--raw=1", "WHEN_UNLOCKED", "yes", "any", "key", "a.b-c_d",
        "1e300", "-1", "nan", "inf", "0x1p-30", "1e-300", "86400", "0.001", "9223372036854775807", "-9223372036854775808",
        "\u{1B}[31m", "\u{0}", "é", "e\u{301}", "\u{FEFF}", "\u{9B}", "\n", "",
    ]

    static func randomWord(_ generator: inout SeededGenerator) -> String {
        if Int.random(in: 0..<4, using: &generator) > 0 { return words.randomElement(using: &generator)! }
        let scalars = (0..<Int.random(in: 0..<12, using: &generator)).map { _ in
            Unicode.Scalar(UInt32.random(in: 0..<0x800, using: &generator)) ?? "?"
        }
        return String(String.UnicodeScalarView(scalars))
    }

    @Test func theParserTakesOrRefusesEveryArgumentVectorWithinItsBounds() async {
        let (failures, parsed, refused) = await offThePool { () -> ([String], Int, Int) in
            var generator = SeededGenerator(state: 2026)
            var failures: [String] = [], parsed = 0, refused = 0
            for _ in 0..<Self.rounds {
                let arguments = (0..<Int.random(in: 0..<7, using: &generator)).map { _ in Self.randomWord(&generator) }
                do {
                    guard let result = try Arguments.parse(arguments) else { continue }
                    parsed += 1
                    if !(Arguments.minimumTimeout...Arguments.maximumTimeout).contains(result.timeout)
                        || (result.command.takesKey && result.key == nil) || (result.stopAfter.map { $0 < 0 } ?? false) {
                        failures.append("\(arguments)")
                    }
                } catch let error as UsageError {
                    refused += 1
                    if error.message.isEmpty { failures.append("no message: \(arguments)") }
                } catch {
                    failures.append("\(type(of: error)): \(arguments)")
                }
            }
            return (failures, parsed, refused)
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(parsed > Self.rounds / 100 && refused > Self.rounds / 100, "the vocabulary reaches both outcomes: \(parsed) parsed, \(refused) refused")
    }

    @Test func standardInputIsReadExactlyOrRefusedForEveryRandomStream() async {
        let failures = await offThePool { () -> [String] in
            var generator = SeededGenerator(state: 23)
            var failures: [String] = []
            for round in 0..<Self.rounds {
                // Mostly small streams; five at or past the cap.
                let length = round % (Self.rounds / 5) == 0
                    ? ValueInput.capacity - 2 + Int.random(in: 0..<4, using: &generator)
                    : Int.random(in: 0..<300, using: &generator)
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { return failures + ["pipe: errno \(errno)"] }
                let writeEnd = ends[1]
                let feed = { @Sendable in
                    bytes.withUnsafeBytes { buffer in
                        var written = 0
                        while written < buffer.count {
                            let result = write(writeEnd, buffer.baseAddress! + written, buffer.count - written)
                            if result <= 0 { break }
                            written += result
                        }
                    }
                    close(writeEnd)
                }
                // A pipe holds 64 KiB: a smaller stream is written whole before the read.
                if length < 60_000 { feed() } else { Thread { feed() }.start() }
                let outcome = Result { () throws(ValueInput.Failure) in try ValueInput.readAll(from: ends[0]) }
                close(ends[0])
                switch outcome {
                case .success(let read) where length < ValueInput.capacity && read == bytes: break
                case .failure(.tooLarge) where length >= ValueInput.capacity: break
                default: failures.append("round \(round): \(length) bytes: \(outcome.map(\.count))")
                }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func messagesShownToPeopleNeverCarryAControlCharacter() async {
        let failures = await offThePool { () -> [String] in
            var generator = SeededGenerator(state: 7)
            var failures: [String] = []
            for _ in 0..<Self.rounds {
                let scalars = (0..<Int.random(in: 0..<20, using: &generator)).map { _ in
                    Unicode.Scalar(UInt32.random(in: 0..<0x3000, using: &generator)) ?? "?"
                }
                let text = String(String.UnicodeScalarView(scalars))
                for shown in [Output.visible(text), Output.JSONValue.string(text).text]
                where shown.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (Output.isHidden($0) && shown == Output.visible(text)) }) {
                    failures.append(text.debugDescription)
                }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// Whole processes: random arguments and random bytes on standard input end with a
    /// documented exit status, and nothing read from standard input appears on standard error.
    @Test(.tags(.keyring)) func randomInvocationsEndWithADocumentedStatusAndKeepTheirInputOffStandardError() async throws {
        var generator = SeededGenerator(state: 64)
        let documented: Set<Int32> = [0, 1, 2, 64, 69, 74, 75, 77, 78]
        let app = "fuzz-\(UUID().uuidString.prefix(8))"
        for _ in 0..<Self.rounds / 333 {
            var arguments = (0..<Int.random(in: 0..<5, using: &generator)).map { _ in Self.randomWord(&generator) }
            arguments += ["--app", app, "--timeout", "5"]
            // Printable, so the input survives as a String, and long enough never to occur by chance.
            let input = String((0..<24).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x41...0x5A, using: &generator))) })
            let outcome = try await Subprocess.run([Subprocess.securestore] + arguments.map { $0.replacingOccurrences(of: "\u{0}", with: "") }, input: input)
            #expect(documented.contains(outcome.status), "\(arguments): \(outcome.status) \(outcome.standardError)")
            #expect(!outcome.standardError.contains(input), "\(arguments)")
        }
        _ = try await Subprocess.run([Subprocess.securestore, "clear", "--app", app])
    }
}
