// The command line, parsed by hand: swift-argument-parser's reflection costs milliseconds at
// every start, and scripts call this command in loops; these few options do not need it.

/// A usage error: the message, then exit 64.
struct UsageError: Error {
    var message: String
}

/// The parsed command line.
struct Arguments {
    enum Command: String, CaseIterable {
        case set, get, delete, list, clear, exists, watch, migrate

        /// Whether it takes a KEY.
        var takesKey: Bool { ![.list, .clear, .watch, .migrate].contains(self) }

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
    /// migrate: stop (exit 3) after copying this many items, before removing the last one's
    /// original; for the tests of an interrupted move. Not in the usage.
    var stopAfter: Int?

    /// Parses `arguments` (without the program's name). Returns `nil` when help was asked for.
    /// The bounds of `--timeout`: a millisecond (the store's resolution) to a day.
    static let minimumTimeout = 0.001, maximumTimeout = 86_400.0

    static func parse(_ arguments: [String]) throws(UsageError) -> Arguments? {
        guard let first = arguments.first else { throw UsageError(message: "Missing a command.") }
        if ["-h", "--help", "help"].contains(first) { return nil }
        guard let command = Command(rawValue: first) else {
            throw UsageError(message: "Unknown command '\(first)'.")
        }
        var parsed = Arguments(command: command)
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                if argument == "-h" { return nil }
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
            case "raw" where command == .set || command == .get: parsed.raw = try flag()
            case "stop-after" where command == .migrate:
                let text = try value()
                guard let count = Int(text), count >= 0 else { throw UsageError(message: "--stop-after must be a count, not '\(text)'.") }
                parsed.stopAfter = count
            default: throw UsageError(message: "Unknown option '--\(name)'.")
            }
        }
        if command.takesKey, parsed.key == nil { throw UsageError(message: "Missing KEY.") }
        return parsed
    }

    static let usage = """
        USAGE: securestore <command> [KEY] [options]

        Store, read and delete secrets in the desktop's Secret Service (GNOME Keyring, KWallet,
        KeePassXC), or inside a Flatpak or Snap sandbox in the app's own keyring.

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
                                  get: print the value with no newline after it.
          -h, --help              Show this help.

        Values are read from standard input (or typed at a prompt with no echo on a terminal),
        never from the command line, where other users could see them in `ps`, and stored byte for
        byte: as text when they are UTF-8, as bytes otherwise. At most 1 MiB and a line ending is
        read: a larger value is refused before the rest is read. End of input at the prompt
        (Ctrl-D) is no value, and nothing is stored. Values go to standard output only, exactly
        as stored; messages and errors go to standard error, control characters shown as
        \\u{1b} and the like. list prints only valid keys: keys that other programs stored and
        that are not valid keys (they could hold terminal escapes) are left out.

        EXIT STATUS:
          0   done, or the item exists
          1   no such item (get, exists)
          2   any other keyring failure (ERR_KEY_CHAIN, ERR_VALUE_NOT_UTF8, ...)
          64  invalid input: usage, key, options, value too large, no value typed
          69  no Secret Service (ERR_SERVICE_UNAVAILABLE)
          74  reading standard input or writing standard output failed (ERR_IO): nothing stored,
              or the value printed in part
          75  timed out (ERR_TIMEOUT)
          77  the keyring is locked and interaction is not allowed (ERR_INTERACTION_NOT_ALLOWED)
          78  the unlock dialog was dismissed or could not be shown (ERR_AUTHENTICATION_CANCELED),
              or authentication is unsupported
          129, 130, 143  ended by SIGHUP, SIGINT or SIGTERM: how watch usually ends; at the
              prompt the terminal is restored and nothing is stored
        """
}
