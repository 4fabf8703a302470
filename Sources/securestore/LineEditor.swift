@_spi(SecureStoreInternal) import SecureStore
// No Foundation here: loading it (and its ICU data) was most of the command's start-up time.

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
