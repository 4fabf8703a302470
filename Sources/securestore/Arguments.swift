// The command line, parsed by hand: swift-argument-parser's reflection costs milliseconds at
// every start, and scripts call this command in loops; these few options do not need it.

/// A usage error: the message, then exit 64.
struct UsageError: Error {
    var message: String
}

/// The parsed command line.
struct Arguments {
    enum Command: String, CaseIterable {
        case set, get, delete, list, clear, exists, watch, migrate, doctor

        /// Whether it takes a KEY.
        var takesKey: Bool { ![.list, .clear, .watch, .migrate, .doctor].contains(self) }

        var abstract: String {
            switch self {
            case .set: "Store the bytes read from standard input under KEY."
            case .get: "Print the value stored under KEY (exit 1 when there is none)."
            case .delete: "Delete the item under KEY (succeeds when there is none)."
            case .list: "Print the keys of the service, one a line. Never unlocks the keyring."
            case .clear: "Delete every item of the service."
            case .exists: "Exit 0 when an item exists under KEY, 1 when not. Never unlocks the keyring."
            case .watch: "Print the service's changes as they happen, one a line: added KEY,\n          changed KEY, removed KEY, locked, unlocked, service-unavailable,\n          service-available (--json: one object a line). Runs until interrupted."
            case .migrate: "In a Flatpak or Snap sandbox: move the app's items (every service, and\n          the --access-group's) from the Secret Service into the sandbox keyring."
            case .doctor: "Say which keyring is used here and why, and what state it is in (exit 0\n          when it is usable, else the status a call would get). Reads no value."
            }
        }
    }

    var command: Command
    var key: String?
    var app: String?
    var service: String?
    var accessGroup: String?
    var accessible = "WHEN_UNLOCKED"
    var synchronizable = "no"
    var noInteraction = false
    var timeout = 30.0
    var json = false
    var raw = false
    /// Log the store's decisions to standard error.
    var verbose = false
    /// A file keyring instead of the Secret Service: its path, and where its password is.
    var keyringFile: String?
    var passwordFile: String?
    var credential: String?
    /// set: store an empty input as the empty value instead of refusing it.
    var allowEmpty = false
    /// migrate: stop (exit 3) after copying this many items, before removing the last one's
    /// original; for the tests of an interrupted move. Not in the usage.
    var stopAfter: Int?

    /// The bounds of `--timeout`: a millisecond (the store's resolution) to a day.
    static let minimumTimeout = 0.001, maximumTimeout = 86_400.0

    /// Parses `arguments` (without the program's name). Returns `nil` when help was asked for.
    static func parse(_ arguments: [String]) throws(UsageError) -> Arguments? {
        guard let first = arguments.first else { throw UsageError(message: "Missing a command.") }
        if ["-h", "--help", "help"].contains(first) { return nil }
        guard let command = Command(rawValue: first) else {
            throw UsageError(message: "Unknown command '\(first)'.")
        }
        var parsed = Arguments(command: command)
        var rest = arguments.dropFirst()
        // After "--" every argument is the KEY, so that a key starting with "-" (valid, and one
        // `list` may print) is never taken for an option.
        var optionsEnded = false
        while let argument = rest.popFirst() {
            if argument == "--", !optionsEnded {
                optionsEnded = true
                continue
            }
            guard !optionsEnded, argument.hasPrefix("--") else {
                if argument == "-h", !optionsEnded { return nil }
                guard command.takesKey, parsed.key == nil else {
                    throw UsageError(message: "Unexpected argument '\(argument)'.")
                }
                parsed.key = argument
                continue
            }
            // --name value, or --name=value.
            var name = String(argument.dropFirst(2)), inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            func value() throws(UsageError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = rest.popFirst() else { throw UsageError(message: "Missing a value for '--\(name)'.") }
                return next
            }
            func flag() throws(UsageError) -> Bool {
                guard inlineValue == nil else { throw UsageError(message: "'--\(name)' takes no value.") }
                return true
            }
            switch name {
            case "help": return nil
            case "app": parsed.app = try value()
            case "service": parsed.service = try value()
            case "access-group": parsed.accessGroup = try value()
            case "accessible": parsed.accessible = try value()
            case "synchronizable": parsed.synchronizable = try value()
            case "timeout":
                let text = try value()
                guard let seconds = Double(text), seconds.isFinite, (minimumTimeout...maximumTimeout).contains(seconds) else {
                    throw UsageError(message: "--timeout must be a number of seconds from \(minimumTimeout) to \(Int(maximumTimeout)), not '\(text)'.")
                }
                parsed.timeout = seconds
            case "no-interaction": parsed.noInteraction = try flag()
            case "json": parsed.json = try flag()
            case "verbose": parsed.verbose = try flag()
            case "raw" where command == .set || command == .get: parsed.raw = try flag()
            case "allow-empty" where command == .set: parsed.allowEmpty = try flag()
            case "keyring-file": parsed.keyringFile = try value()
            case "password-file": parsed.passwordFile = try value()
            case "credential": parsed.credential = try value()
            case "stop-after" where command == .migrate:
                let text = try value()
                guard let count = Int(text), count >= 0 else { throw UsageError(message: "--stop-after must be a count, not '\(text)'.") }
                parsed.stopAfter = count
            default: throw UsageError(message: "Unknown option '--\(name)'.")
            }
        }
        if command.takesKey, parsed.key == nil { throw UsageError(message: "Missing KEY.") }
        if parsed.keyringFile != nil {
            guard (parsed.passwordFile == nil) != (parsed.credential == nil) else {
                throw UsageError(message: "--keyring-file needs its password: --password-file FILE or --credential NAME (one of the two).")
            }
            guard command != .migrate else { throw UsageError(message: "migrate moves items into the sandbox keyring, not a keyring file.") }
        } else if parsed.passwordFile != nil || parsed.credential != nil {
            throw UsageError(message: "--password-file and --credential are for --keyring-file PATH.")
        }
        return parsed
    }

    static let usage = """
        USAGE: securestore <command> [KEY] [options]

        Store, read and delete secrets in the desktop's Secret Service (GNOME Keyring, KWallet,
        KeePassXC), inside a Flatpak or Snap sandbox in the app's own keyring, and on a machine
        without a desktop in an encrypted keyring file that you name.

        COMMANDS:
        \(Command.allCases.map { "  \($0.rawValue)\(String(repeating: " ", count: 8 - $0.rawValue.count))\($0.abstract)" }.joined(separator: "\n"))

        OPTIONS:
          --app ID                The application ID whose items to use (default: $SECURESTORE_APP,
                                  else 'securestore').
          --service NAME          The keychain service (default: app).
          --access-group GROUP    An access group: items shared by every application that names it
                                  (Expo's accessGroup).
          --accessible NAME       Accessibility for set, an Expo constant such as WHEN_UNLOCKED
                                  (default) or AFTER_FIRST_UNLOCK.
          --synchronizable WHICH  Which items to use: no (default), yes or any.
          --no-interaction        Fail (exit 77) instead of showing the desktop's unlock dialog when
                                  the keyring is locked.
          --timeout SECONDS       Seconds any one keyring call may take, an unlock dialog included
                                  (default: 30; from 0.001 to 86400).
          --json                  Print results and errors as JSON. A value that is not UTF-8 is
                                  printed as base64, with "encoding": "base64".
          --raw                   set: keep a trailing newline (by default one, LF or CRLF, is
                                  dropped; every other byte is stored as given).
                                  get: print the value exactly, with no newline after it,
                                  also to a terminal (where it is otherwise shown with control
                                  characters as \\u{1b} and bytes that are not UTF-8 as \\xff).
          --keyring-file PATH     Use the encrypted keyring file at PATH (libsecret's file format)
                                  instead of the Secret Service, with its password from one of:
            --password-file FILE  a file of yours that no one else can read (mode 0600 or 0400),
            --credential NAME     the systemd credential NAME (in $CREDENTIALS_DIRECTORY).
                                  A password is the file's bytes exactly (a final newline too),
                                  at least 16 of them. Without --keyring-file, where no Secret
                                  Service answers, $SECURESTORE_KEYRING_FILE with
                                  $SECURESTORE_PASSWORD_FILE or $SECURESTORE_CREDENTIAL name one.
          --allow-empty           set: store an empty value. Without it, empty input (an empty
                                  pipe, often a producer that failed, or an empty line at the
                                  prompt) is refused with exit 64 and nothing changes.
          --verbose               Log to standard error what the store decides on its own: the
                                  provider found, a new connection, a retry, a write read back
                                  wrong and undone, a wait for another call, the unlock dialog,
                                  and each call's duration. Never a value.
          -h, --help              Show this help.
          --                      Ends the options: what follows is the KEY, also one that starts
                                  with - (securestore get -- "$key").

        Values are read from standard input (or typed at a prompt with no echo on a terminal),
        never from the command line, where other users could see them in `ps`, and stored byte for
        byte: as text when they are UTF-8, as bytes otherwise. At most 1 MiB and a line ending is
        read: a larger value is refused before the rest is read. Empty input, or end of input at
        the prompt (Ctrl-D), is no value, and nothing is stored (see --allow-empty). The prompt
        takes lines of any length up to 1 MiB. Values go to standard output only, exactly as
        stored (to a terminal, see --raw); messages and errors go to standard error, control characters shown as
        \\u{1b} and the like. list prints only valid keys: keys that other programs stored and
        that are not valid keys (they could hold terminal escapes) are left out.

        EXIT STATUS:
          0   done, or the item exists
          1   no such item (get, exists)
          2   any other keyring failure (ERR_KEY_CHAIN, ERR_VALUE_NOT_UTF8, ...)
          64  invalid input: usage, key, options, value too large, no value (empty input)
          69  no Secret Service, and no keyring file named (ERR_SERVICE_UNAVAILABLE)
          74  reading standard input or writing standard output failed, or the terminal would
              not turn its echo off (ERR_IO): nothing stored, or the output printed in part
          75  timed out (ERR_TIMEOUT)
          77  the keyring is locked and interaction is not allowed (ERR_INTERACTION_NOT_ALLOWED)
          78  the unlock dialog was dismissed or could not be shown, or a delete the keyring asked
              to confirm was not confirmed (ERR_AUTHENTICATION_CANCELED), or authentication is
              unsupported
          71  core dumps could not be turned off: nothing was done
          129, 130, 131, 143  ended by SIGHUP, SIGINT, SIGQUIT or SIGTERM: how watch usually
              ends; at the prompt the terminal is restored and nothing is stored (no core file:
              the command never dumps core)
        """
}
