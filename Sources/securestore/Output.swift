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

    /// Writes `bytes` exactly, all of them (a pipe may take them in parts). `false` when the
    /// stream took fewer (closed, full, or failing): the caller must not report success.
    @discardableResult
    static func write(_ bytes: some Collection<UInt8>, to stream: Stream) -> Bool {
        var bytes = Array(bytes)
        defer { wipe(&bytes) }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(stream.descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }

    @discardableResult
    static func write(_ text: String, to stream: Stream) -> Bool { write(text.utf8, to: stream) }
    @discardableResult
    static func standardOutput(_ line: String) -> Bool { write(line + "\n", to: .standardOutput) }
    static func standardError(_ line: String) { write(line + "\n", to: .standardError) }

    /// `text` with every control character (C0, DEL, C1) and every invisible character that
    /// reorders or hides text (bidirectional overrides, isolates and marks, line and paragraph
    /// separators) shown as `\u{…}`: messages can carry text from the keyring or the bus,
    /// which must never reach a terminal as an escape sequence or read other than it is.
    static func visible(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if isHidden(scalar) {
                shown += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// `bytes` as ``visible(_:)`` shows text, and each byte that is not UTF-8 as `\x..`.
    static func visible(bytes: [UInt8]) -> String {
        var shown = ""
        var index = 0
        while index < bytes.count {
            let length = utf8Length(bytes[index...])
            if length > 0 {
                shown += visible(String(decoding: bytes[index..<index + length], as: UTF8.self))
                index += length
            } else {
                let hex = String(bytes[index], radix: 16)
                shown += "\\x" + (hex.count == 1 ? "0" : "") + hex
                index += 1
            }
        }
        return shown
    }

    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Whether `bytes` are UTF-8, checked without making a `String` (which cannot be wiped).
    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        !transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true, into: { _ in })
    }

    /// The length of the UTF-8 scalar that `bytes` starts with, or 0 when it starts with none.
    private static func utf8Length(_ bytes: ArraySlice<UInt8>) -> Int {
        let length = switch bytes.first! {
        case 0..<0x80: 1
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
        guard length > 0, bytes.count >= length else { return 0 }
        return isUTF8(Array(bytes.prefix(length))) ? length : 0
    }

    /// A JSON object, keys sorted, values strings, booleans or arrays of strings.
    static func json(_ object: [String: JSONValue]) -> String {
        "{" + object.sorted { $0.key < $1.key }.map { "\(JSONValue.string($0.key).text):\($0.value.text)" }.joined(separator: ",") + "}"
    }

    enum JSONValue {
        case string(String), bool(Bool), strings([String]), number(Int), object([String: JSONValue]), null

        var text: String {
            switch self {
            case .null: return "null"
            case .object(let object): return Output.json(object)
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
                    case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
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
