import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum Output {
    static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(text.utf8))
    }

    static func standardOutput(_ line: String) { write(line + "\n", to: .standardOutput) }
    static func standardError(_ line: String) { write(line + "\n", to: .standardError) }

    static func json(_ object: [String: any Sendable]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Reads a value from standard input: everything a pipe gives, or one line typed at a terminal
/// with echo off.
enum ValueInput {
    static func read(prompt: String, keepTrailingNewline: Bool) throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            return try readWithoutEcho(prompt: prompt)
        }
        var value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        if !keepTrailingNewline {
            if value.hasSuffix("\r\n") { value.removeLast(1) } // "\r\n" is one Character
            else if value.hasSuffix("\n") { value.removeLast() }
        }
        return value
    }

    private static func readWithoutEcho(prompt: String) throws -> String {
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
