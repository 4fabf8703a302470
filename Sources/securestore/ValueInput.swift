@_spi(SecureStoreInternal) import SecureStore
#if canImport(Glibc)
import Glibc
#endif
// No Foundation here: loading it (and its ICU data) was most of the command's start-up time.

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
