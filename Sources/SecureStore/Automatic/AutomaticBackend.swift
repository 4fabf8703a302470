#if canImport(CLibSecret)
import Synchronization

/// ``KeyringLocation/automatic`` outside a sandbox: the Secret Service, or, where none answers
/// and the environment names one (``FallbackKeyringFile``), that keyring file.
///
/// The choice is made once, at the first call that needs it, and kept for the store's life: a
/// Secret Service that goes away later fails the calls (``SecureStoreError/Code/serviceUnavailable``)
/// rather than sending them to another store, where items would seem lost. Without a keyring
/// file, the Secret Service's unavailable errors say how to name one.
final class AutomaticBackend: SecureStoreBackend {
    let secretService: SecretServiceBackend
    let fallback: FileKeyringBackend?
    private let choice = Mutex<Task<any SecureStoreBackend, Never>?>(nil)

    init(secretService: SecretServiceBackend, fallback: FileKeyringBackend?) {
        self.secretService = secretService
        self.fallback = fallback
    }

    /// The backend the calls go to: decided by the first caller, awaited by the rest.
    func chosen() async -> any SecureStoreBackend {
        guard let fallback else { return secretService }
        let secretService = secretService
        let decision = choice.withLock { choice in
            if let choice { return choice }
            let decision = Task<any SecureStoreBackend, Never> {
                if await secretService.answers() {
                    secretService.logger.debug("Keeping items in the Secret Service, which answers (a keyring file is named too)")
                    return secretService
                }
                secretService.logger.debug("No Secret Service answers; keeping items in the keyring file the environment names",
                                           metadata: [LogKey.keyring: "\(fallback.path)"])
                return fallback
            }
            choice = decision
            return decision
        }
        return await decision.value
    }

    /// Runs `call` on the chosen backend; a Secret Service that is unavailable, with no keyring
    /// file to fall back to, says where else secrets can go.
    private func run<T: Sendable>(_ call: (any SecureStoreBackend) async throws -> T) async throws -> T {
        let backend = await chosen()
        do {
            return try await call(backend)
        } catch let error as SecureStoreError where error.code == .serviceUnavailable && fallback == nil {
            throw SecureStoreError(.serviceUnavailable, error.message + " " + FallbackKeyringFile.hint,
                                   backendDomain: error.backendDomain, backendCode: error.backendCode)
        }
    }

    var canUseBiometricAuthentication: Bool { false }

    func isAvailable() async -> Bool { await chosen().isAvailable() }

    func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        try await run { try await $0.setItem(value, kind: kind, forKey: key, options: options) }
    }

    func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        try await run { try await $0.getItem(forKey: key, options: options) }
    }

    func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try await run { try await $0.deleteItem(forKey: key, options: options) }
    }

    func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try await run { try await $0.containsItem(forKey: key, options: options) }
    }

    func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try await run { try await $0.allKeys(options: options) }
    }

    func deleteAll(options: SecureStoreOptions) async throws {
        try await run { try await $0.deleteAll(options: options) }
    }

    func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        try await run { try await $0.changes(options: options) }
    }
}

extension SecretServiceBackend {
    /// Whether a Secret Service answers on the session bus: a connection to it opens. Only
    /// ``SecureStoreError/Code/serviceUnavailable`` (no bus, no service, none that starts)
    /// counts as no: one that answers slowly or oddly is still the desktop's keyring, whose
    /// errors the calls then report. Waits at most 3 seconds.
    func answers() async -> Bool {
        do {
            try await withConnection(timeout: min(timeout, .seconds(3))) { _ in }
            return true
        } catch let error as SecureStoreError where error.code == .serviceUnavailable {
            return false
        } catch {
            return true
        }
    }
}
#endif
