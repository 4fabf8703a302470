#if canImport(Glibc)
import Glibc
#endif
// No Foundation here: loading it (and its ICU data) was most of the command's start-up time.

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
