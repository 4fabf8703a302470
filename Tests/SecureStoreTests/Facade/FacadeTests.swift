import Testing
@testable import SecureStore

/// The facade's own duties: Expo's constants, and validation before any backend call.
@Suite("SecureStore facade", TestSelection(), .tags(.everyProvider, .sandbox, .headless))
struct FacadeTests {
    @Test func accessibilityConstantsHaveExposRawValuesAndNames() {
        let expected: [(KeychainAccessible, Int, String)] = [
            (.afterFirstUnlock, 0, "AFTER_FIRST_UNLOCK"),
            (.afterFirstUnlockThisDeviceOnly, 1, "AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY"),
            (.always, 2, "ALWAYS"),
            (.whenPasscodeSetThisDeviceOnly, 3, "WHEN_PASSCODE_SET_THIS_DEVICE_ONLY"),
            (.alwaysThisDeviceOnly, 4, "ALWAYS_THIS_DEVICE_ONLY"),
            (.whenUnlocked, 5, "WHEN_UNLOCKED"),
            (.whenUnlockedThisDeviceOnly, 6, "WHEN_UNLOCKED_THIS_DEVICE_ONLY"),
        ]
        #expect(KeychainAccessible.allCases.count == expected.count)
        for (accessible, rawValue, name) in expected {
            #expect(accessible.rawValue == rawValue)
            #expect(accessible.expoName == name)
            #expect(KeychainAccessible(rawValue: rawValue) == accessible)
            #expect(KeychainAccessible(expoName: name) == accessible)
            #expect(accessible.isThisDeviceOnly == name.hasSuffix("THIS_DEVICE_ONLY"))
        }
    }

    /// The in-memory backend takes the application IDs the Secret Service backend takes, and no
    /// others: there its `init` throws, here every call throws the same error.
    @Test func theInMemoryBackendRefusesTheApplicationIDsTheSecretServiceBackendRefuses() async throws {
        for applicationID in ["", "app\n", "a\u{0}b", "\u{7F}", "\u{FEFF}app"] {
            let store = SecureStore(backend: InMemoryBackend(applicationID: applicationID))
            let errors = [
                await secureStoreError { try await store.setItem("k", "v") },
                await secureStoreError { _ = try await store.getItem("k") },
                await secureStoreError { _ = try await store.containsItem("k") },
                await secureStoreError { _ = try await store.allKeys() },
                await secureStoreError { try await store.deleteItem("k") },
                await secureStoreError { try await store.deleteAll() },
                await secureStoreError { _ = try await store.changes() },
            ]
            #expect(errors.allSatisfy { $0?.code == .invalidOptions }, "\(applicationID.debugDescription): \(errors)")
            #expect(await !store.isAvailable())
        }
        #expect(await SecureStore(backend: InMemoryBackend(applicationID: "com.example.app")).isAvailable())
    }

    @Test func defaultOptionsAreExpos() {
        let options = SecureStoreOptions()
        #expect(options.keychainService == nil)
        #expect(options.service == "app")
        #expect(options.keychainAccessible == .whenUnlocked)
        #expect(options.requireAuthentication == false)
        #expect(options.authenticationPrompt == nil)
        #expect(options.synchronizable == .no)
    }

    @Test func errorCodesAreStable() {
        let codes: [(SecureStoreError.Code, String)] = [
            (.invalidKey, "ERR_INVALID_KEY"), (.invalidOptions, "ERR_INVALID_OPTIONS"),
            (.valueTooLarge, "ERR_VALUE_TOO_LARGE"), (.serviceUnavailable, "ERR_SERVICE_UNAVAILABLE"),
            (.interactionNotAllowed, "ERR_INTERACTION_NOT_ALLOWED"),
            (.authenticationCanceled, "ERR_AUTHENTICATION_CANCELED"),
            (.authenticationUnsupported, "ERR_AUTHENTICATION_UNSUPPORTED"), (.timeout, "ERR_TIMEOUT"),
            (.keyChain, "ERR_KEY_CHAIN"),
        ]
        for (code, raw) in codes {
            #expect(code.rawValue == raw)
            #expect(SecureStoreError.Code(rawValue: raw) == code)
        }
        let error = SecureStoreError(.keyChain, "boom", backendDomain: "g-io-error-quark", backendCode: 1)
        #expect(error.description == "ERR_KEY_CHAIN: boom [g-io-error-quark 1]")
    }

    /// A key that the facade rejects never reaches the backend, whatever the backend.
    @Test func invalidInputNeverReachesTheBackend() async throws {
        let backend = RecordingBackend()
        let store = SecureStore(backend: backend)
        _ = await secureStoreError { try await store.setItem("bad key", "v") }
        _ = await secureStoreError { _ = try await store.getItem("") }
        _ = await secureStoreError { try await store.deleteItem("ü") }
        _ = await secureStoreError { _ = try await store.containsItem("a/b") }
        _ = await secureStoreError { try await store.setItem("k", String(repeating: "x", count: SecureStore.maximumValueSize + 1)) }
        _ = await secureStoreError { _ = try await store.allKeys(options: SecureStoreOptions(keychainService: "")) }
        _ = await secureStoreError { try await store.deleteAll(options: SecureStoreOptions(requireAuthentication: true)) }
        #expect(backend.calls.isEmpty)
        try await store.setItem("good", "v")
        #expect(backend.calls == ["set good"])
    }

    /// What reaches a backend: a string as its UTF-8 labelled text, bytes exactly labelled bytes
    /// (the Secret Service stores the label as the content type, which gnome-keyring ignores,
    /// so the facade's half of that promise is checked here).
    @Test func stringsReachTheBackendAsTextAndBytesAsBytes() async throws {
        let backend = RecordingBackend()
        let store = SecureStore(backend: backend)
        try await store.setItem("text", "héllo")
        try await store.setBytes("bytes", [0xFF, 0x00, 0x41])
        #expect(backend.writes == [
            RecordingBackend.Write(key: "text", value: Array("héllo".utf8), kind: .text),
            RecordingBackend.Write(key: "bytes", value: [0xFF, 0x00, 0x41], kind: .bytes),
        ])
    }

    /// `keyring:` picks the backend as the README's table says; outside a sandbox the sandbox
    /// keyring is unavailable at once, with a typed error, rather than a fall-back, and inside
    /// one that may not talk to the Secret Service (the sandbox pass's), so is the Secret
    /// Service: the proxy answers for the hidden name itself, without a sender, and that answer
    /// counts (dropped, it would leave the call waiting out its timeout).
    @Test func theKeyringLocationPicksTheBackend() async throws {
        #expect(try SecureStore(applicationID: "facade-test", keyring: .secretService).backend is SecretServiceBackend)
        #expect(try SecureStore(applicationID: "facade-test", keyring: .sandboxKeyring).backend is SandboxKeyringBackend)
        let automatic = try SecureStore(applicationID: "facade-test").backend
        #expect((automatic is SandboxKeyringBackend) == SandboxKeyringBackend.isSandboxed)
        #expect((automatic is AutomaticBackend) == !SandboxKeyringBackend.isSandboxed)
        let file = try SecureStore(applicationID: "facade-test", keyring: .file(path: "/nowhere/keyring", password: .credential("c"))).backend
        #expect((file as? FileKeyringBackend)?.path == "/nowhere/keyring")
        #expect(throws: SecureStoreError.self) { try SecureStore(applicationID: "facade-test", keyring: .file(path: "keyring", password: .file("/p"))) }
        if !SandboxKeyringBackend.isSandboxed {
            let outside = try SecureStore(applicationID: "facade-test", keyring: .sandboxKeyring)
            let error = await #expect(throws: SecureStoreError.self) { try await outside.getItem("k") }
            #expect(error?.code == .serviceUnavailable)
        } else {
            let hidden = try SecureStore(applicationID: "facade-test", timeout: .seconds(TimeScale.seconds(60)), keyring: .secretService)
            let error = await #expect(throws: SecureStoreError.self) { try await hidden.getItem("k") }
            #expect(error?.code == .serviceUnavailable, "\(error.map(String.init(describing:)) ?? "")")
        }
    }

    @Test func validatorAgreesWithTheRegexOracle() throws {
        let oracle = try Regex("^[A-Za-z0-9._-]+$")
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = Array("aZ09._-/ :é🔑\u{0}\t\nß١Ａ+") 
        for _ in 0..<5000 {
            let length = Int.random(in: 0...6, using: &generator)
            let key = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(Validation.isValidKey(key) == (key.wholeMatch(of: oracle) != nil), "\(key.debugDescription)")
        }
    }
}

/// Records which calls reach it.
final class RecordingBackend: SecureStoreBackend {
    private let log = Mutex<[String]>([])
    var calls: [String] { log.withLock { $0 } }
    private func record(_ call: String) { log.withLock { $0.append(call) } }

    struct Write: Equatable {
        var key: String
        var value: [UInt8]
        var kind: ValueKind
    }
    private let writeLog = Mutex<[Write]>([])
    /// What each setItem received (a test double may keep values; a real backend's log must not).
    var writes: [Write] { writeLog.withLock { $0 } }

    var canUseBiometricAuthentication: Bool { false }
    func isAvailable() async -> Bool { true }
    func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        record("set \(key)")
        writeLog.withLock { $0.append(Write(key: key, value: value, kind: kind)) }
    }
    func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? { record("get \(key)"); return nil }
    func deleteItem(forKey key: String, options: SecureStoreOptions) async throws { record("delete \(key)") }
    func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool { record("contains \(key)"); return false }
    func allKeys(options: SecureStoreOptions) async throws -> [String] { record("allKeys"); return [] }
    func deleteAll(options: SecureStoreOptions) async throws { record("deleteAll") }
}

import Synchronization
