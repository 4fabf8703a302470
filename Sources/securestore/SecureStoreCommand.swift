@_spi(SecureStoreInternal) import SecureStore
import Logging
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// `securestore`: the desktop keyring from shell scripts, through the SecureStore library.
/// `securestore --help` (``Arguments/usage``) documents every command, option and exit status.
@main
struct SecureStoreCommand {
    static func main() {
        guard ProcessHardening.forbidCoreDumps() else {
            Output.standardError("securestore: could not turn core dumps off (errno \(errno)); nothing was done.")
            exit(71)
        }
        let arguments: Arguments
        do {
            guard let parsed = try Arguments.parse(Array(CommandLine.arguments.dropFirst())) else {
                Output.standardOutput(Arguments.usage)
                exit(0)
            }
            arguments = parsed
        } catch {
            Output.standardError("securestore: \(Output.visible(error.message))\nSee 'securestore --help'.")
            exit(64)
        }
        // One call per process: nothing remembered would be used again.
        SecretServiceBackend.rememberNothingBetweenCalls()
        exit(MainThreadExecutor().run { await run(arguments) })
    }

    /// Runs the command and returns its exit status (documented in ``Arguments/usage``).
    static func run(_ arguments: Arguments) async -> Int32 {
        let reporter = Reporter(json: arguments.json)
        guard let accessible = KeychainAccessible(expoName: arguments.accessible) else {
            reporter.report(error: "ERR_INVALID_OPTIONS", message: "--accessible must be one of \(KeychainAccessible.allCases.map(\.expoName).joined(separator: ", ")).")
            return 64
        }
        let synchronizable: Synchronizable
        switch arguments.synchronizable {
        case "no": synchronizable = .no
        case "yes": synchronizable = .yes
        case "any": synchronizable = .any
        default:
            reporter.report(error: "ERR_INVALID_OPTIONS", message: "--synchronizable must be no, yes or any.")
            return 64
        }
        let options = SecureStoreOptions(
            keychainService: arguments.service, keychainAccessible: accessible, synchronizable: synchronizable,
            accessGroup: arguments.accessGroup)
        let key = arguments.key ?? ""
        let applicationID = arguments.app ?? getenv("SECURESTORE_APP").map { String(cString: $0) } ?? "securestore"
        if arguments.command == .doctor {
            return await Doctor.run(applicationID: applicationID, location: keyringLocation(arguments),
                                    timeout: .milliseconds(Int64(arguments.timeout * 1000)), reporter: reporter)
        }
        let store: SecureStore
        var value: [UInt8] = []
        defer { wipe(&value) }
        do {
            // Building the store connects to nothing: a bad application ID, key or option is
            // reported before anyone types a secret.
            let timeout = Duration.milliseconds(Int64(arguments.timeout * 1000))
            let logger = arguments.verbose ? Logger(label: "securestore", factory: { _ in StandardErrorLogHandler() }) : nil
            store = try SecureStore(applicationID: applicationID, userInteraction: arguments.noInteraction ? .notAllowed : .allowed,
                                    timeout: timeout, keyring: keyringLocation(arguments), logger: logger)
            if arguments.command == .set {
                try store.checkWrite(key, options: options)
                // Read before connecting: a value typed at the prompt should not wait on the keyring.
                do {
                    value = try ValueInput.read(prompt: "Value for \(Output.visible(key)): ", keepTrailingNewline: arguments.raw)
                } catch {
                    return report(error, reporter)
                }
                // An empty pipe is most often a producer that failed: it must not replace a secret.
                guard !value.isEmpty || arguments.allowEmpty else {
                    return report(.noValue, reporter)
                }
            }
        } catch {
            return report(error, reporter)
        }
        do {
            switch arguments.command {
            case .set:
                // UTF-8 is stored as text (text/plain), anything else as bytes: exactly, either way.
                try await store.setBytes(key, value, kind: Output.isUTF8(value) ? .text : .bytes, options: options)
                guard reporter.result(["key": .string(key), "stored": .bool(true)]) else { return reportOutputFailure(reporter) }
            case .get:
                guard var found = try await store.getBytes(key, options: options) else {
                    reporter.report(error: "ERR_NOT_FOUND", message: "No item under '\(key)'.")
                    return 1
                }
                defer { wipe(&found) }
                let printed: Bool
                if arguments.json {
                    // JSON holds text: a value that is not UTF-8 goes as base64, and says so.
                    if Output.isUTF8(found) {
                        printed = reporter.result(["key": .string(key), "value": .string(String(decoding: found, as: UTF8.self))])
                    } else {
                        printed = reporter.result(["key": .string(key), "value": .string(Output.base64(found)), "encoding": .string("base64")])
                    }
                } else if !arguments.raw && isatty(STDOUT_FILENO) == 1 {
                    // A terminal runs the escapes it is sent: another program's value could hold some.
                    printed = Output.write(Output.visible(bytes: found) + "\n", to: .standardOutput)
                } else {
                    printed = Output.write(found, to: .standardOutput) && (arguments.raw || Output.write("\n", to: .standardOutput))
                }
                guard printed else { return reportOutputFailure(reporter) }
            case .delete:
                try await store.deleteItem(key, options: options)
                guard reporter.result(["key": .string(key), "deleted": .bool(true)]) else { return reportOutputFailure(reporter) }
            case .list:
                let keys = try await store.allKeys(options: options)
                if arguments.json {
                    guard reporter.result(["keys": .strings(keys)]) else { return reportOutputFailure(reporter) }
                } else {
                    // Only valid keys (allKeys leaves out the rest): nothing here can be an escape.
                    for key in keys where !Output.standardOutput(key) { return reportOutputFailure(reporter) }
                }
            case .clear:
                try await store.deleteAll(options: options)
                guard reporter.result(["cleared": .bool(true)]) else { return reportOutputFailure(reporter) }
            case .exists:
                let exists = try await store.containsItem(key, options: options)
                guard reporter.result(["key": .string(key), "exists": .bool(exists)]) else { return reportOutputFailure(reporter) }
                return exists ? 0 : 1
            case .watch:
                let changes = try await store.changes(options: options)
                Output.standardError("securestore: watching the changes of service '\(Output.visible(options.service))'")
                for await change in changes {
                    let (event, key) = Self.describe(change)
                    // Keys from the stream are checked keys; they are shown visibly all the same.
                    let line = arguments.json
                        ? Output.json(key.map { ["event": .string(event), "key": .string($0)] } ?? ["event": .string(event)])
                        : key.map { "\(event) \(Output.visible($0))" } ?? event
                    guard Output.standardOutput(line) else { return reportOutputFailure(reporter) }
                }
            case .doctor:
                preconditionFailure("doctor is run before a store is made")
            case .migrate:
                let timeout = Duration.milliseconds(Int64(arguments.timeout * 1000))
                let sandbox = try SandboxKeyringBackend(applicationID: applicationID, timeout: timeout)
                let host = try SecretServiceBackend(
                    applicationID: applicationID, userInteraction: arguments.noInteraction ? .notAllowed : .allowed, timeout: timeout)
                let copied = Counter()
                let stopAfter = arguments.stopAfter
                let report = try await sandbox.moveItems(from: host, accessGroups: arguments.accessGroup.map { [$0] } ?? []) { _ in
                    if let stopAfter, copied.increment() >= stopAfter { exit(3) }
                }
                let left = report.leftOnHost > 0 ? ", left on the host \(report.leftOnHost) (several items answer for the key)" : ""
                let printed = arguments.json
                    ? reporter.result(["moved": .number(report.moved), "alreadyInSandbox": .number(report.alreadyInSandbox),
                                       "leftOnHost": .number(report.leftOnHost)])
                    : Output.standardOutput("moved \(report.moved), already in the sandbox \(report.alreadyInSandbox)\(left)")
                guard printed else { return reportOutputFailure(reporter) }
            }
            return 0
        } catch {
            return report(error, reporter)
        }
    }

    /// The keyring file the options name, else ``KeyringLocation/automatic`` (which honours
    /// `SECURESTORE_KEYRING_FILE` where no Secret Service answers).
    static func keyringLocation(_ arguments: Arguments) -> KeyringLocation {
        guard let keyringFile = arguments.keyringFile else { return .automatic }
        let password: KeyringPassword = arguments.passwordFile.map { .file(absolute($0)) } ?? .credential(arguments.credential ?? "")
        return .file(path: absolute(keyringFile), password: password)
    }

    /// `path` made absolute against the working folder, as the user meant it.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let folder = getcwd(nil, 0) else { return path }
        defer { free(folder) }
        return String(cString: folder) + "/" + path
    }

    /// Reports a failed call and returns its exit status.
    static func report(_ error: any Error, _ reporter: Reporter) -> Int32 {
        if let error = error as? SecureStoreError {
            reporter.report(error: error.code.rawValue, message: error.message)
            return exitStatus(for: error.code)
        }
        reporter.report(error: "ERR_KEY_CHAIN", message: "\(type(of: error))")
        return 2
    }

    /// A change as `watch` prints it: the event's name, and its key if it has one (keys are valid
    /// keys, so they print as they are).
    static func describe(_ change: SecureStoreChange) -> (event: String, key: String?) {
        switch change {
        case .added(let key): ("added", key)
        case .changed(let key): ("changed", key)
        case .removed(let key): ("removed", key)
        case .locked: ("locked", nil)
        case .unlocked: ("unlocked", nil)
        case .serviceUnavailable: ("service-unavailable", nil)
        case .serviceAvailable: ("service-available", nil)
        }
    }

    /// Reports why no value could be read; nothing was stored.
    static func report(_ failure: ValueInput.Failure, _ reporter: Reporter) -> Int32 {
        switch failure {
        case .tooLarge:
            reporter.report(error: SecureStoreError.Code.valueTooLarge.rawValue,
                            message: "The value is over \(SecureStore.maximumValueSize) bytes; nothing was read past that, and nothing was stored.")
            return 64
        case .noValue:
            reporter.report(error: "ERR_NO_VALUE", message: "No value: the input was empty, or ended at the prompt before a line; nothing was stored. Give --allow-empty to store an empty value.")
            return 64
        case .echoNotOff(let number):
            reporter.report(error: "ERR_IO", message: "The terminal would not turn its echo off (errno \(number)); nothing was read or stored. Pipe the value in instead.")
            return 74
        case .readError(let number):
            reporter.report(error: "ERR_IO", message: "Reading standard input failed (errno \(number)); nothing was stored.")
            return 74
        }
    }

    /// Output that did not all reach standard output (closed, full, or failing) is no success.
    static func reportOutputFailure(_ reporter: Reporter) -> Int32 {
        reporter.report(error: "ERR_IO", message: "Writing to standard output failed (errno \(errno)).")
        return 74
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

/// Prints results (with `--json` only: plain output is the value or the keys) and errors.
struct Reporter {
    var json: Bool

    /// Prints `object` with `--json`; `false` when standard output did not take it all.
    func result(_ object: [String: Output.JSONValue]) -> Bool {
        !json || Output.standardOutput(Output.json(object))
    }

    func report(error code: String, message: String) {
        if json {
            Output.standardError(Output.json(["error": .string(code), "message": .string(message)]))
        } else {
            Output.standardError("securestore: \(code): \(Output.visible(message))")
        }
    }
}

/// Counts from any task (the migrate command's interruption hook).
private final class Counter: Sendable {
    private let count = Mutex(0)
    /// Adds one and returns the new count.
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}
