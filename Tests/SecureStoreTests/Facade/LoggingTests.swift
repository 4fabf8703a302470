import Foundation
import Logging
import Synchronization
import Testing
@testable import SecureStore

/// What the store and its backends log: the decisions a user would otherwise never see, with
/// their metadata, and never a value, in this process (a capturing `LogHandler`) and in the
/// command's `--verbose`.
@Suite("Logging", TestSelection(), .tags(.keyring))
struct LoggingTests {
    /// Every message a logger was given, with its level and metadata.
    final class Capture: Sendable {
        struct Entry: Sendable {
            var level: Logger.Level
            var message: String
            var metadata: Logger.Metadata
            /// The message and its metadata as one text, for searching.
            var text: String { "\(message) " + metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        }

        let entries = Mutex<[Entry]>([])

        var logger: Logger {
            Logger(label: "test") { _ in Handler(capture: self) }
        }

        func matching(_ message: String) -> [Entry] {
            entries.withLock { $0 }.filter { $0.message.contains(message) }
        }

        struct Handler: LogHandler {
            let capture: Capture
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let entry = Entry(level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 })
                capture.entries.withLock { $0.append(entry) }
            }
        }
    }

    /// A write that finds its key held by another call of the process logs the wait, with the
    /// key and how long it took; every call is logged at `trace` level with its operation, key
    /// and duration; and no message or metadata holds a value written or read.
    @Test(.tags(.everyProvider)) func aWaitForAKeyAndEveryCallAreLoggedWithoutTheirValues() async throws {
        let capture = Capture()
        let applicationID = "securestore-log-\(UUID().uuidString.prefix(8))"
        let backend = try SecretServiceBackend(applicationID: applicationID, userInteraction: .notAllowed, timeout: BackendFixture.timeout, logger: capture.logger)
        let store = SecureStore(backend: backend, logger: capture.logger)
        let values = ["f1rst-v4lue-b83", "s3cond-v4lue-e17"]
        try await store.setItem("token", values[0])

        // Hold the key's lock as a write of this process would, so that the next write waits.
        let lockName = ItemSchema.lockName(applicationID: applicationID, key: "token", options: SecureStoreOptions())
        let (release, released) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await SecretServiceBackend.itemLocks.withLock(lockName) { for await _ in release {} }
        }
        await SecretServiceBackend.itemLocks.until(lockName) { $0.hasWriter }
        let waiting = Task { try await store.setItem("token", values[1]) }
        await SecretServiceBackend.itemLocks.until(lockName) { $0.waiting == 1 }
        released.finish()
        try await holder.value
        try await waiting.value
        #expect(try await store.getItem("token") == values[1])
        try await store.deleteItem("token")

        let waits = capture.matching("Waited for another call on the same key")
        #expect(waits.count == 1 && waits.first?.level == .debug, "\(waits.map(\.text))")
        #expect(waits.first?.metadata[LogKey.key] == "token" && waits.first?.metadata[LogKey.durationMilliseconds] != nil)
        let calls = capture.matching("Call finished").compactMap { $0.metadata[LogKey.operation].map { "\($0)" } }
        #expect(calls == ["setItem", "setItem", "getItem", "deleteItem"], "\(calls)")
        let logged = capture.entries.withLock { $0 }.map(\.text).joined(separator: "\n")
        for value in values {
            #expect(!logged.contains(value), "a value was logged")
        }
    }

    /// A keyring file's password is read once, and its reading logged with the file and where the
    /// password came from, never the password or a value.
    @Test func aKeyringFilesPasswordReadIsLoggedWithoutThePassword() async throws {
        let place = FileKeyringPlace()
        let capture = Capture()
        let backend = try FileKeyringBackend(applicationID: "app", path: place.keyring, password: .file(place.passwordFile),
                                             timeout: .seconds(60), logger: capture.logger)
        let store = SecureStore(backend: backend, logger: capture.logger)
        try await store.setItem("token", "f1le-v4lue-2a8")
        #expect(try await store.getItem("token") == "f1le-v4lue-2a8")
        let reads = capture.matching("Read the keyring's password")
        #expect(reads.count == 1 && reads.first?.level == .debug, "\(reads.map(\.text))")
        #expect(reads.first?.metadata[LogKey.keyring] == "\(place.keyring)", "\(reads.map(\.text))")
        #expect(reads.first.map { "\($0.metadata[LogKey.passwordSource] ?? "")".contains(place.passwordFile) } == true, "\(reads.map(\.text))")
        let password = try String(contentsOfFile: place.passwordFile, encoding: .utf8)
        let logged = capture.entries.withLock { $0 }.map(\.text).joined(separator: "\n")
        #expect(!password.isEmpty && !logged.contains(password), "the password was logged")
        #expect(!logged.contains("f1le-v4lue-2a8"), "a value was logged")
    }

    /// The unlock dialog, asked for and answered (the double's `Unlock` says it unlocked, or that
    /// it unlocked nothing, as after a dismissed dialog), is logged by `--verbose` with its answer.
    @Test(arguments: [
        (["--stays-locked"], "The keyring was unlocked", "ERR_KEY_CHAIN"),
        (["--stays-locked", "--refuse-unlock"], "The unlock dialog was dismissed or could not be shown", "ERR_AUTHENTICATION_CANCELED"),
    ])
    func theUnlockDialogAndItsAnswerAreLogged(double: [String], answer: String, error: String) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve"] + double
                                           + ["--", Subprocess.securestore, "get", "k", "--app", "unlock-logged", "--verbose"])
        let log = run.standardError.split(separator: "\n").filter { $0.hasPrefix("securestore: debug:") }
        let asked = log.firstIndex { $0.contains("The keyring is locked; asking the Secret Service to unlock it") }
        let answered = log.firstIndex { $0.contains(answer) }
        #expect(asked != nil && answered != nil && asked! < answered!, "\(run.standardError)")
        #expect(run.standardError.contains("securestore: \(error):"), "\(run.standardError)")
    }

    /// What `--verbose` prints shows every character that could steer the terminal escaped: here
    /// a service name with a right-to-left override and a C1 control, which names may hold.
    @Test func verboseOutputShowsHiddenCharactersEscaped() async throws {
        let run = try await Subprocess.run([Subprocess.securestore, "get", "k", "--app", "escaped-log", "--service", "svc\u{202E}evil\u{85}x", "--verbose"])
        #expect(run.standardError.contains("securestore.service=svc\\u{202e}evil\\u{85}x"), "\(run.standardError.debugDescription)")
        #expect(!run.standardError.unicodeScalars.contains { $0 == "\u{202E}" || $0 == "\u{85}" }, "\(run.standardError.debugDescription)")
    }

    /// The command's `--verbose`, against KWallet's double storing an overwrite garbled on every
    /// attempt: it logs the provider it found, each read-back that did not match, each new
    /// connection and the undo, and neither value.
    @Test func aWriteReadBackWrongIsLoggedWithItsReconnectsAndUndo() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--garble-writes", "2:3", "--"]
                                           + Subprocess.scenario("Hostile/undone-write-logged"), environment: Subprocess.scenarioEnvironment([:]))
        let log = run.standardError.split(separator: "\n").filter { $0.hasPrefix("securestore: debug:") || $0.hasPrefix("securestore: trace:") }
        func count(_ text: String) -> Int { log.filter { $0.contains(text) }.count }
        let context = run.standardError.replacingOccurrences(of: "n3w-v4lue-9d2", with: "<new>").replacingOccurrences(of: "0ld-v4lue-7c1", with: "<old>")
        #expect(run.standardError.contains("set=2"), "\(context)")
        #expect(count("Connected to the Secret Service") >= 3 && count("securestore.provider=kWallet") >= 3, "\(context)")
        #expect(count("The item read back other bytes than were written") == 3, "\(context)")
        #expect(count("Replacing the connection") == 2 && count("The connection failed on the last attempt") == 1, "\(context)")
        #expect(count("No attempt of the write read back what was written; undone") == 1
                && count("securestore.undo=the previous value was put back") == 1, "\(context)")
        #expect(run.standardOutput == "0ld-v4lue-7c1\n", "the previous value is left")
        #expect(!log.contains { $0.contains("n3w-v4lue-9d2") || $0.contains("0ld-v4lue-7c1") }, "a value was logged")
    }
}
