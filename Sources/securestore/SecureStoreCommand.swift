import ArgumentParser
import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// `securestore`: the desktop keyring from shell scripts, through the SecureStore library.
@main
struct SecureStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "securestore",
        abstract: "Store, read and delete secrets in the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC).",
        discussion: """
            Values are read from standard input (or typed at a prompt with no echo on a terminal),
            never from the command line, where other users could see them in `ps`, and stored
            byte for byte: as text when they are UTF-8, as bytes otherwise. Values go to standard
            output only, exactly as stored; messages and errors go to standard error.

            Exit status:
              0   done, or the item exists
              1   no such item (get, exists)
              2   any other keyring failure (ERR_KEY_CHAIN)
              64  invalid input: usage, key, options, value too large
              69  no Secret Service (ERR_SERVICE_UNAVAILABLE)
              75  timed out (ERR_TIMEOUT)
              77  the keyring is locked and interaction is not allowed (ERR_INTERACTION_NOT_ALLOWED)
              78  the unlock dialog was dismissed or could not be shown (ERR_AUTHENTICATION_CANCELED),
                  or authentication is unsupported
            """,
        subcommands: [SetCommand.self, GetCommand.self, DeleteCommand.self, ListCommand.self, ClearCommand.self, ExistsCommand.self]
    )
}

/// Options every subcommand takes.
struct StoreOptions: ParsableArguments {
    @Option(help: "The application ID whose items to use (default: $SECURESTORE_APP, else 'securestore').")
    var app: String?

    @Option(help: "The keychain service (default: app).")
    var service: String?

    @Option(help: "An access group: items shared by every application that names it (Expo's accessGroup).")
    var accessGroup: String?

    @Option(help: "Accessibility for set, an Expo constant such as WHEN_UNLOCKED or AFTER_FIRST_UNLOCK.")
    var accessible: String = KeychainAccessible.whenUnlocked.expoName

    @Option(help: "Which items to use: no, yes or any.")
    var synchronizable: String = "no"

    @Flag(help: "Fail (exit 77) instead of showing the desktop's unlock dialog when the keyring is locked.")
    var noInteraction = false

    @Option(help: "Seconds any one keyring call may take, an unlock dialog included.")
    var timeout: Double = 30

    @Flag(help: "Print results and errors as JSON.")
    var json = false

    func validate() throws {
        guard KeychainAccessible(expoName: accessible) != nil else {
            throw ValidationError("--accessible must be one of \(KeychainAccessible.allCases.map(\.expoName).joined(separator: ", ")).")
        }
        guard ["no", "yes", "any"].contains(synchronizable) else {
            throw ValidationError("--synchronizable must be no, yes or any.")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds.") }
    }

    var secureStoreOptions: SecureStoreOptions {
        SecureStoreOptions(
            keychainService: service,
            keychainAccessible: KeychainAccessible(expoName: accessible) ?? .whenUnlocked,
            synchronizable: synchronizable == "yes" ? .yes : synchronizable == "any" ? .any : .no,
            accessGroup: accessGroup)
    }

    /// Runs `body` against the store and turns a `SecureStoreError` into a message on standard
    /// error and the exit status documented above.
    func run(_ body: (SecureStore, SecureStoreOptions) async throws -> Void) async throws {
        do {
            let applicationID = app ?? getenv("SECURESTORE_APP").map { String(cString: $0) } ?? "securestore"
            let store = try SecureStore(
                applicationID: applicationID, userInteraction: noInteraction ? .notAllowed : .allowed,
                timeout: .milliseconds(Int64(timeout * 1000)))
            try await body(store, secureStoreOptions)
        } catch let error as SecureStoreError {
            report(error: error.code.rawValue, message: error.message)
            throw ExitCode(Self.exitStatus(for: error.code))
        }
    }

    func report(error code: String, message: String) {
        if json {
            Output.standardError(Output.json(["error": .string(code), "message": .string(message)]))
        } else {
            Output.standardError("securestore: \(code): \(message)")
        }
    }

    static func exitStatus(for code: SecureStoreError.Code) -> Int32 {
        switch code {
        case .invalidKey, .invalidOptions, .valueTooLarge: 64
        case .serviceUnavailable: 69
        case .timeout: 75
        case .interactionNotAllowed: 77
        case .authenticationCanceled, .authenticationUnsupported: 78
        default: 2
        }
    }
}

struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Store the bytes read from standard input under KEY.")

    @OptionGroup var options: StoreOptions
    @Argument(help: "The key: ASCII letters, digits, '.', '-' and '_'.") var key: String
    @Flag(help: "Keep a trailing newline; by default one (LF or CRLF) is dropped. Every other byte is stored as given.") var raw = false

    func run() async throws {
        var value = ValueInput.read(prompt: "Value for \(key): ", keepTrailingNewline: raw)
        defer { wipe(&value) }
        try await options.run { store, storeOptions in
            // UTF-8 is stored as text (text/plain), anything else as bytes: exactly, either way.
            if let text = String(validating: value, as: UTF8.self) {
                try await store.setItem(key, text, options: storeOptions)
            } else {
                try await store.setBytes(key, value, options: storeOptions)
            }
            if options.json { Output.standardOutput(Output.json(["key": .string(key), "stored": .bool(true)])) }
        }
    }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the value stored under KEY (exit 1 when there is none).")

    @OptionGroup var options: StoreOptions
    @Argument var key: String
    @Flag(help: "Print the value byte for byte, with no newline after it.") var raw = false

    func run() async throws {
        var found = false
        try await options.run { store, storeOptions in
            guard var value = try await store.getBytes(key, options: storeOptions) else { return }
            defer { wipe(&value) }
            found = true
            if options.json {
                // JSON holds text: a value that is not UTF-8 goes as base64, and says so.
                if let text = String(validating: value, as: UTF8.self) {
                    Output.standardOutput(Output.json(["key": .string(key), "value": .string(text)]))
                } else {
                    Output.standardOutput(Output.json(["key": .string(key), "value": .string(Output.base64(value)), "encoding": .string("base64")]))
                }
            } else {
                Output.write(value, to: .standardOutput)
                if !raw { Output.write("\n", to: .standardOutput) }
            }
        }
        if !found {
            options.report(error: "ERR_NOT_FOUND", message: "No item under '\(key)'.")
            throw ExitCode(1)
        }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete the item under KEY (succeeds when there is none).")

    @OptionGroup var options: StoreOptions
    @Argument var key: String

    func run() async throws {
        try await options.run { store, storeOptions in
            try await store.deleteItem(key, options: storeOptions)
            if options.json { Output.standardOutput(Output.json(["key": .string(key), "deleted": .bool(true)])) }
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the keys of the service, one a line. Never unlocks the keyring.")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        try await options.run { store, storeOptions in
            let keys = try await store.allKeys(options: storeOptions)
            if options.json {
                Output.standardOutput(Output.json(["keys": .strings(keys)]))
            } else {
                for key in keys { Output.standardOutput(key) }
            }
        }
    }
}

struct ClearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Delete every item of the service.")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        try await options.run { store, storeOptions in
            try await store.deleteAll(options: storeOptions)
            if options.json { Output.standardOutput(Output.json(["cleared": .bool(true)])) }
        }
    }
}

struct ExistsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exists", abstract: "Exit 0 when an item exists under KEY, 1 when not. Never unlocks the keyring.")

    @OptionGroup var options: StoreOptions
    @Argument var key: String

    func run() async throws {
        var exists = false
        try await options.run { store, storeOptions in
            exists = try await store.containsItem(key, options: storeOptions)
            if options.json { Output.standardOutput(Output.json(["key": .string(key), "exists": .bool(exists)])) }
        }
        if !exists { throw ExitCode(1) }
    }
}
