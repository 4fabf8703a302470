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
        /// The terminal would not turn its echo off (errno): nothing was read.
        case echoNotOff(Int32)
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

    /// One line typed at the terminal, with echo off and the terminal out of canonical mode:
    /// the kernel's line discipline would cut a line at 4,095 bytes without a word, so this
    /// reads the bytes itself and does the line editing the discipline did (erase, word erase,
    /// kill, literal next, end of input). The terminal is restored however the prompt ends, a
    /// signal included (see ``TerminalState``).
    private static func readWithoutEcho(prompt: String) throws(Failure) -> [UInt8] {
        Output.write(prompt, to: .standardError)
        guard let keys = TerminalState.silence() else { throw .echoNotOff(errno) }
        defer {
            TerminalState.restore()
            Output.write("\n", to: .standardError)
        }
        var line = LineEditor(capacity: capacity, keys: keys)
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { wipe(&chunk) }
        while true {
            let result = chunk.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                let error = errno
                line.clear()
                throw .readError(error)
            }
            if result == 0 { return try line.finish(atEndOfInput: true) }
            for byte in chunk[..<result] {
                switch line.take(byte) {
                case .more: continue
                case .done: return try line.finish(atEndOfInput: false)
                case .endOfInput: return try line.finish(atEndOfInput: true)
                case .tooLarge:
                    line.clear()
                    throw .tooLarge
                }
            }
        }
    }
}

/// The line being typed at the prompt, edited as a canonical-mode terminal would edit it, in
/// one buffer reserved once (growing would leave unwiped copies behind).
struct LineEditor {
    /// The terminal's editing characters, from its settings before the prompt.
    struct Keys {
        var erase: UInt8, wordErase: UInt8, kill: UInt8, endOfInput: UInt8, literalNext: UInt8
    }

    enum Step { case more, done, endOfInput, tooLarge }

    private var bytes: [UInt8]
    private var count = 0
    private var literal = false
    private let keys: Keys

    init(capacity: Int, keys: Keys) {
        bytes = [UInt8](repeating: 0, count: capacity)
        self.keys = keys
    }

    mutating func take(_ byte: UInt8) -> Step {
        if literal {
            literal = false
            return append(byte)
        }
        switch byte {
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"): return .done
        case keys.endOfInput: return .endOfInput
        case keys.literalNext: literal = true
        case keys.erase, 0x08: eraseCharacter()
        case keys.wordErase:
            while count > 0, bytes[count - 1] == UInt8(ascii: " ") { count -= 1 }
            while count > 0, bytes[count - 1] != UInt8(ascii: " ") { count -= 1 }
        case keys.kill: count = 0
        default: return append(byte)
        }
        return .more
    }

    /// The line typed. End of input on an empty line is no value; anywhere else it ends the
    /// line, as a canonical terminal's end-of-file character does.
    mutating func finish(atEndOfInput: Bool) throws(ValueInput.Failure) -> [UInt8] {
        if atEndOfInput && count == 0 { throw .noValue }
        // Erased characters stay past the end until zeroed.
        for index in count..<bytes.count { bytes[index] = 0 }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Zeroes everything typed.
    mutating func clear() {
        wipe(&bytes)
    }

    private mutating func append(_ byte: UInt8) -> Step {
        guard count < SecureStore.maximumValueSize else { return .tooLarge }
        bytes[count] = byte
        count += 1
        return .more
    }

    /// Removes the last character: one UTF-8 scalar, continuation bytes and all.
    private mutating func eraseCharacter() {
        while count > 0 {
            count -= 1
            if bytes[count] & 0xC0 != 0x80 { return }
        }
    }
}

/// The terminal's settings while the prompt reads with echo off. Restored when the prompt ends,
/// and on SIGINT, SIGTERM, SIGHUP or SIGQUIT before the process ends by that signal (nothing
/// is stored then). A stop (SIGTSTP, SIGTTIN, SIGTTOU) restores them too, and the prompt goes
/// silent again when the process continues, as `readpassphrase(3)` does. Signal handlers can
/// capture nothing, so both settings are globals, in memory of the C struct's full stride:
/// Swift's `termios` is 57 bytes, glibc writes 60.
enum TerminalState {
    nonisolated(unsafe) private static let saved = allocateTermios()
    nonisolated(unsafe) private static let silent = allocateTermios()
    nonisolated(unsafe) private static var isSilenced: sig_atomic_t = 0
    static let endingSignals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    static let stoppingSignals = [SIGTSTP, SIGTTIN, SIGTTOU]

    private static func allocateTermios() -> UnsafeMutablePointer<termios> {
        let pointer = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<termios>.stride)
        return pointer
    }

    /// Turns echo and canonical mode off and returns the terminal's editing keys, or `nil` when
    /// the terminal did not take the settings (then nothing is changed and no prompt may run).
    static func silence() -> LineEditor.Keys? {
        guard tcgetattr(STDIN_FILENO, saved) == 0 else { return nil }
        for signal in endingSignals { installEnding(signal) }
        for signal in stoppingSignals { installStopping(signal) }
        silent.pointee = saved.pointee
        silent.pointee.c_lflag &= ~tcflag_t(ECHO | ECHOE | ECHOK | ECHONL | ICANON)
        withUnsafeMutableBytes(of: &silent.pointee.c_cc) { characters in
            characters[Int(VMIN)] = 1
            characters[Int(VTIME)] = 0
        }
        isSilenced = 1
        // tcsetattr succeeds when any one of the changes took: read the settings back.
        let check = allocateTermios()
        defer { check.deallocate() }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, silent) == 0, tcgetattr(STDIN_FILENO, check) == 0,
              check.pointee.c_lflag & tcflag_t(ECHO | ICANON) == 0 else {
            let error = errno
            restore()
            errno = error
            return nil
        }
        return withUnsafeBytes(of: saved.pointee.c_cc) { characters in
            LineEditor.Keys(
                erase: characters[Int(VERASE)], wordErase: characters[Int(VWERASE)], kill: characters[Int(VKILL)],
                endOfInput: characters[Int(VEOF)], literalNext: characters[Int(VLNEXT)])
        }
    }

    static func restore() {
        guard isSilenced != 0 else { return }
        isSilenced = 0
        tcsetattr(STDIN_FILENO, TCSAFLUSH, saved)
        for signal in endingSignals + stoppingSignals { Glibc.signal(signal, SIG_DFL) }
    }

    private static func install(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
    }

    private static func installEnding(_ signal: Int32) { install(signal) { TerminalState.end(by: $0) } }
    private static func installStopping(_ signal: Int32) { install(signal) { TerminalState.stop(by: $0) } }

    /// Lets `signal` through to its default action: ends or stops the process, and returns
    /// only when it continues.
    private static func takeDefaultAction(of signal: Int32) {
        Glibc.signal(signal, SIG_DFL)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, signal)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        raise(signal)
        pthread_sigmask(SIG_BLOCK, &unblocked, nil)
    }

    /// Restores the terminal, then ends the process by the same signal (SIGQUIT dumps no core:
    /// see ``ProcessHardening``).
    private static func end(by signal: Int32) {
        if isSilenced != 0 { tcsetattr(STDIN_FILENO, TCSAFLUSH, saved) }
        takeDefaultAction(of: signal)
        _exit(128 + signal)
    }

    /// Restores the terminal and stops; once continued, silences it again and goes on reading.
    /// Neither change flushes input: what was typed (unseen) before the stop and not read yet
    /// is part of the value, and dropping it would store another one.
    private static func stop(by signal: Int32) {
        let wasSilenced = isSilenced != 0
        if wasSilenced { tcsetattr(STDIN_FILENO, TCSANOW, saved) }
        takeDefaultAction(of: signal)
        installStopping(signal)
        if wasSilenced { tcsetattr(STDIN_FILENO, TCSANOW, silent) }
    }
}
