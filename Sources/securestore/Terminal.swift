@_spi(SecureStoreInternal) import SecureStore
#if canImport(Glibc)
import Glibc
#endif
// No Foundation here: loading it (and its ICU data) was most of the command's start-up time.

enum Output {
    enum Stream {
        case standardOutput, standardError
        var descriptor: Int32 { self == .standardOutput ? STDOUT_FILENO : STDERR_FILENO }
    }

    /// Writes `bytes` exactly, all of them (a pipe may take them in parts).
    static func write(_ bytes: some Collection<UInt8>, to stream: Stream) {
        var bytes = Array(bytes)
        defer { wipe(&bytes) }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(stream.descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return }
            written += result
        }
    }

    static func write(_ text: String, to stream: Stream) { write(text.utf8, to: stream) }
    static func standardOutput(_ line: String) { write(line + "\n", to: .standardOutput) }
    static func standardError(_ line: String) { write(line + "\n", to: .standardError) }

    /// A JSON object, keys sorted, values strings, booleans or arrays of strings.
    static func json(_ object: [String: JSONValue]) -> String {
        "{" + object.sorted { $0.key < $1.key }.map { "\(JSONValue.string($0.key).text):\($0.value.text)" }.joined(separator: ",") + "}"
    }

    enum JSONValue {
        case string(String), bool(Bool), strings([String]), number(Int)

        var text: String {
            switch self {
            case .bool(let value): return value ? "true" : "false"
            case .number(let value): return String(value)
            case .strings(let values): return "[" + values.map { JSONValue.string($0).text }.joined(separator: ",") + "]"
            case .string(let value):
                var escaped = "\""
                for scalar in value.unicodeScalars {
                    switch scalar {
                    case "\"": escaped += "\\\""
                    case "\\": escaped += "\\\\"
                    case "\n": escaped += "\\n"
                    case "\r": escaped += "\\r"
                    case "\t": escaped += "\\t"
                    case _ where scalar.value < 0x20:
                        let hex = String(scalar.value, radix: 16)
                        escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    default: escaped.unicodeScalars.append(scalar)
                    }
                }
                return escaped + "\""
            }
        }
    }

    /// Standard base64 with padding, for values that are not text in `--json` output.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity((bytes.count + 2) / 3 * 4)
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let chunk = bytes[start..<min(start + 3, bytes.count)]
            let word = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
            for index in 0..<4 {
                encoded.append(index <= chunk.count ? alphabet[Int(word >> (18 - 6 * index) & 0x3F)] : UInt8(ascii: "="))
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}

/// Reads a value from standard input: every byte a pipe or file gives, or one line typed at a
/// terminal with echo off.
enum ValueInput {
    static func read(prompt: String, keepTrailingNewline: Bool) -> [UInt8] {
        if isatty(STDIN_FILENO) == 1 {
            return Array(readWithoutEcho(prompt: prompt).utf8)
        }
        var value: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            value += buffer[..<count]
        }
        wipe(&buffer)
        if !keepTrailingNewline, value.last == UInt8(ascii: "\n") {
            value.removeLast()
            if value.last == UInt8(ascii: "\r") { value.removeLast() }
        }
        return value
    }

    private static func readWithoutEcho(prompt: String) -> String {
        Output.write(prompt, to: .standardError)
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            Output.write("\n", to: .standardError)
        }
        return Swift.readLine(strippingNewline: true) ?? ""
    }
}
