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

    /// `text` with every control character (C0, DEL, C1) shown as `\u{…}`: messages can carry
    /// text from the keyring or the bus, which must never reach a terminal as an escape sequence.
    static func visible(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                shown += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

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

/// Reads a value from standard input: the bytes a pipe or file gives, or one line typed at a
/// terminal with echo off. At most ``capacity`` bytes are read: one more than the largest value
/// with a CRLF after it, so a larger input is refused without being read to its end. The
/// value lives in one buffer, reserved once, that the caller wipes.
enum ValueInput {
    enum Failure: Error {
        /// More than the largest value (and a line ending) came.
        case tooLarge
        /// Reading failed (errno), so what was read may be cut short.
        case readError(Int32)
        /// End of input at the prompt before any byte: no value, not the empty one.
        case noValue
    }

    static let capacity = SecureStore.maximumValueSize + 3

    static func read(prompt: String, keepTrailingNewline: Bool) throws(Failure) -> [UInt8] {
        var value: [UInt8]
        if isatty(STDIN_FILENO) == 1 {
            value = try readWithoutEcho(prompt: prompt)
        } else {
            value = try readAll(from: STDIN_FILENO)
            if !keepTrailingNewline, value.last == UInt8(ascii: "\n") {
                value.removeLast()
                if value.last == UInt8(ascii: "\r") { value.removeLast() }
            }
        }
        return value
    }

    /// Every byte of a pipe or file, into one buffer that never grows (growing would leave
    /// unwiped copies behind).
    static func readAll(from descriptor: Int32) throws(Failure) -> [UInt8] {
        var value = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while count < capacity {
            let result = value[count...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                let error = errno
                wipe(&value)
                throw .readError(error)
            }
            if result == 0 { break }
            count += result
        }
        guard count < capacity else {
            wipe(&value)
            throw .tooLarge
        }
        value.removeSubrange(count...)
        return value
    }

    /// One line typed at the terminal, with echo off; the terminal is restored however the
    /// prompt ends, a signal included (see ``TerminalState``).
    private static func readWithoutEcho(prompt: String) throws(Failure) -> [UInt8] {
        Output.write(prompt, to: .standardError)
        TerminalState.silence()
        defer {
            TerminalState.restore()
            Output.write("\n", to: .standardError)
        }
        var line = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while true {
            guard count < capacity else {
                wipe(&line)
                throw .tooLarge
            }
            let result = line[count...].withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, 1) }
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                let error = errno
                wipe(&line)
                throw .readError(error)
            }
            if result == 0 {
                guard count > 0 else { throw .noValue }
                break
            }
            if line[count] == UInt8(ascii: "\n") { break }
            count += 1
        }
        line.removeSubrange(count...)
        return line
    }
}

/// The terminal's settings while the prompt reads with echo off: restored when it ends, and
/// on SIGINT, SIGTERM or SIGHUP before the process exits with 128 + the signal (nothing is
/// stored then). Signal handlers can capture nothing, so the saved state is a global. It lives
/// in memory of the C struct's full stride: Swift's `termios` is 57 bytes, glibc writes 60.
enum TerminalState {
    nonisolated(unsafe) private static let saved = allocateTermios()
    nonisolated(unsafe) private static var isSilenced: sig_atomic_t = 0
    static let signals = [SIGINT, SIGTERM, SIGHUP]

    private static func allocateTermios() -> UnsafeMutablePointer<termios> {
        let pointer = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<termios>.stride)
        return pointer
    }

    static func silence() {
        guard tcgetattr(STDIN_FILENO, saved) == 0 else { return }
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                if TerminalState.isSilenced != 0 { tcsetattr(STDIN_FILENO, TCSAFLUSH, TerminalState.saved) }
                _exit(128 + signal)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        let silent = allocateTermios()
        defer { silent.deallocate() }
        silent.pointee = saved.pointee
        silent.pointee.c_lflag &= ~tcflag_t(ECHO)
        isSilenced = 1
        tcsetattr(STDIN_FILENO, TCSAFLUSH, silent)
    }

    static func restore() {
        guard isSilenced != 0 else { return }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, saved)
        isSilenced = 0
    }
}
