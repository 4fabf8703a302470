import Dispatch
import Logging
import Synchronization

/// Expo's SecureStore for Swift: keeps small secrets (tokens, passwords) in the desktop's own
/// secret store.
///
/// ```swift
/// let store = try SecureStore(applicationID: "com.example.MyApp")
/// try await store.setItem("token", "s3cr3t")
/// let token = try await store.getItem("token")      // "s3cr3t"
/// ```
///
/// `SecureStore` validates keys, values and options, then delegates to a
/// ``SecureStoreBackend``. It is a value type and `Sendable`: copy it freely between tasks.
public struct SecureStore: Sendable {
    /// The largest value, in bytes (of UTF-8, for a string), that SecureStore stores: 1 MiB.
    /// Larger values throw ``SecureStoreError/Code/valueTooLarge`` on every backend. A keyring is
    /// for small secrets; gnome-keyring rewrites its whole file on every change.
    public static let maximumValueSize = 1 << 20

    /// The backend every call delegates to.
    public let backend: any SecureStoreBackend

    /// Where each call is logged at `trace` level: its operation, key, service, duration and
    /// error code, never its value. The backends log their own decisions (see their `logger`).
    public let logger: Logger

    /// A store on the given backend, for example an ``InMemoryBackend`` in tests.
    ///
    /// - Parameters:
    ///   - backend: Where items are kept.
    ///   - logger: Where calls are logged (see ``logger``); by default nowhere.
    public init(backend: some SecureStoreBackend, logger: Logger? = nil) {
        self.backend = backend
        self.logger = logger ?? .disabled
    }

    /// Stores `value` under `key`, replacing any value (and accessibility) stored before. The
    /// item holds the string's UTF-8 bytes, labelled `text/plain`.
    public func setItem(_ key: String, _ value: String, options: SecureStoreOptions = SecureStoreOptions()) async throws {
        try Validation.checkKey(key)
        try Validation.checkValueSize(value.utf8.count)
        try checkOptions(options, isWrite: true)
        var bytes = Array(value.utf8)
        defer { wipe(&bytes) }
        try await logged("setItem", key, options) { try await backend.setItem(bytes, kind: .text, forKey: key, options: options) }
    }

    /// The value stored under `key`, or `nil` when there is none. A locked keyring is never
    /// reported as `nil`: it throws.
    ///
    /// - Throws: ``SecureStoreError/Code/valueNotUTF8`` when the item holds bytes that are not
    ///   UTF-8 (stored with ``setBytes(_:_:options:)`` or by another program): read those with
    ///   ``getBytes(_:options:)``. A value is never returned changed.
    public func getItem(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) async throws -> String? {
        guard var bytes = try await getBytes(key, options: options) else { return nil }
        defer { wipe(&bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SecureStoreError(
                .valueNotUTF8,
                "The item under '\(key)' holds \(bytes.count) bytes that are not UTF-8 text; read it with getBytes.")
        }
        return text
    }

    /// Stores the bytes of `value` (a `[UInt8]`, Foundation's `Data`, any collection of bytes)
    /// under `key` exactly, replacing any value (and accessibility) stored before. The item is
    /// labelled `application/octet-stream`.
    public func setBytes(_ key: String, _ value: some Collection<UInt8>, options: SecureStoreOptions = SecureStoreOptions()) async throws {
        try Validation.checkKey(key)
        try Validation.checkValueSize(value.count)
        try checkOptions(options, isWrite: true)
        var bytes = Array(value)
        defer { wipe(&bytes) }
        try await logged("setItem", key, options) { try await backend.setItem(bytes, kind: .bytes, forKey: key, options: options) }
    }

    /// The bytes stored under `key`, exactly as the keyring holds them, or `nil` when there is
    /// none. Works for every item, text or not: a string reads back as its UTF-8.
    public func getBytes(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) async throws -> [UInt8]? {
        try Validation.checkKey(key)
        try checkOptions(options, isWrite: false)
        return try await logged("getItem", key, options) { try await backend.getItem(forKey: key, options: options) }
    }

    /// Removes the item under `key`. Removing a missing key succeeds.
    public func deleteItem(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) async throws {
        try Validation.checkKey(key)
        try checkOptions(options, isWrite: false)
        try await logged("deleteItem", key, options) { try await backend.deleteItem(forKey: key, options: options) }
    }

    /// Whether an item exists under `key`. Reads no value, so it never unlocks a keyring.
    public func containsItem(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) async throws -> Bool {
        try Validation.checkKey(key)
        try checkOptions(options, isWrite: false)
        return try await logged("containsItem", key, options) { try await backend.containsItem(forKey: key, options: options) }
    }

    /// The keys stored in `options.keychainService`, sorted. Never unlocks a keyring.
    ///
    /// Keys that are not valid keys (another program's items can carry any text, control
    /// characters and terminal escapes included) are left out: no call could read them.
    public func allKeys(options: SecureStoreOptions = SecureStoreOptions()) async throws -> [String] {
        try checkOptions(options, isWrite: false)
        return try await logged("allKeys", nil, options) { try await backend.allKeys(options: options) }.filter(Validation.isValidKey)
    }

    /// Removes every item of `options.keychainService` (as selected by `options.synchronizable`).
    public func deleteAll(options: SecureStoreOptions = SecureStoreOptions()) async throws {
        try checkOptions(options, isWrite: false)
        try await logged("deleteAll", nil, options) { try await backend.deleteAll(options: options) }
    }

    /// What happens to the items of `options.keychainService` (and access group), whoever
    /// makes the change: this process, another instance of the app, `secret-tool`, a person in
    /// Seahorse. Also reports the keyring being locked and unlocked, and its service going away
    /// and coming back. Changes name keys, never values; every change after this returns is
    /// reported. Cancelling the task that iterates ends the stream.
    ///
    /// ```swift
    /// for await change in try await store.changes() {
    ///     if change == .removed(key: "password") { signOut() }
    /// }
    /// ```
    ///
    /// On a keyring file (``FileKeyringBackend``, the sandbox's ``SandboxKeyringBackend`` too)
    /// every process's writes are heard.
    public func changes(options: SecureStoreOptions = SecureStoreOptions()) async throws -> AsyncStream<SecureStoreChange> {
        try checkOptions(options, isWrite: false)
        return try await backend.changes(options: options)
    }

    /// Whether the store can be used now, like Expo's `isAvailableAsync()`. Never prompts,
    /// never throws.
    public func isAvailable() async -> Bool {
        await backend.isAvailable()
    }

    /// Whether `requireAuthentication: true` can be honoured. Always `false` on Linux.
    public func canUseBiometricAuthentication() -> Bool {
        backend.canUseBiometricAuthentication
    }

    /// Checks `key` and `options` as a write would, before its value is asked for: the command
    /// says a key is invalid before anyone types a secret.
    @_spi(SecureStoreInternal)
    public func checkWrite(_ key: String, options: SecureStoreOptions) throws(SecureStoreError) {
        try Validation.checkKey(key)
        try checkOptions(options, isWrite: true)
    }

    /// Stores `value` labelled as `kind`, without a `String` in between: a `String` cannot be
    /// wiped, so the command stores typed text this way. The caller checks that `.text` is UTF-8.
    @_spi(SecureStoreInternal)
    public func setBytes(_ key: String, _ value: [UInt8], kind: ValueKind, options: SecureStoreOptions) async throws {
        try Validation.checkKey(key)
        try Validation.checkValueSize(value.count)
        try checkOptions(options, isWrite: true)
        try await logged("setItem", key, options) { try await backend.setItem(value, kind: kind, forKey: key, options: options) }
    }

    /// Runs one backend call, logged at `trace` level when the logger takes that level.
    private func logged<T>(_ operation: String, _ key: String?, _ options: SecureStoreOptions,
                           _ call: () async throws -> T) async throws -> T {
        guard logger.logLevel <= .trace else { return try await call() }
        var metadata: Logger.Metadata = [LogKey.operation: "\(operation)", LogKey.service: "\(options.service)"]
        metadata[LogKey.key] = key.map { "\($0)" }
        let start = ContinuousClock.now
        do {
            let result = try await call()
            metadata[LogKey.durationMilliseconds] = (ContinuousClock.now - start).loggedMilliseconds
            logger.trace("Call finished", metadata: metadata)
            return result
        } catch {
            metadata[LogKey.durationMilliseconds] = (ContinuousClock.now - start).loggedMilliseconds
            metadata[LogKey.error] = error.loggedDescription
            logger.trace("Call failed", metadata: metadata)
            throw error
        }
    }

    func checkOptions(_ options: SecureStoreOptions, isWrite: Bool) throws(SecureStoreError) {
        try Validation.checkOptions(
            options, isWrite: isWrite, canUseBiometricAuthentication: backend.canUseBiometricAuthentication)
    }
}

// MARK: - Blocking variants

extension SecureStore {
    /// Blocking ``setItem(_:_:options:)``, like Expo's synchronous `setItem`, for code that
    /// cannot await. It parks the calling thread until the backend answers.
    @available(*, noasync, message: "Use the async setItem(_:_:options:)")
    public func setItemSync(_ key: String, _ value: String, options: SecureStoreOptions = SecureStoreOptions()) throws {
        try waitFor { try await self.setItem(key, value, options: options) }
    }

    /// Blocking ``getItem(_:options:)``, like Expo's synchronous `getItem`.
    @available(*, noasync, message: "Use the async getItem(_:options:)")
    public func getItemSync(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) throws -> String? {
        try waitFor { try await self.getItem(key, options: options) }
    }

    /// Blocking ``deleteItem(_:options:)``.
    @available(*, noasync, message: "Use the async deleteItem(_:options:)")
    public func deleteItemSync(_ key: String, options: SecureStoreOptions = SecureStoreOptions()) throws {
        try waitFor { try await self.deleteItem(key, options: options) }
    }
}

/// Overwrites a value's bytes with zeros before they are freed. It zeroes the array's own
/// storage when the array is its only holder; a buffer shared with another array (a caller's)
/// is that holder's to wipe, and only a fresh copy is zeroed here. Swift's `String` cannot be
/// wiped at all (see the README's "Secrets in memory"). SPI for the package's own `securestore`
/// command, which holds values in buffers of its own.
@_spi(SecureStoreInternal)
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        memsetExplicit(base, buffer.count)
    }
}

/// `memset` that the optimizer may not drop as a dead store.
@inline(never)
private func memsetExplicit(_ base: UnsafeMutableRawPointer, _ count: Int) {
    base.initializeMemory(as: UInt8.self, repeating: 0, count: count)
    withExtendedLifetime(base) {}
}

/// Runs `operation` in a new task and parks the calling (non-async) thread until it finishes.
private func waitFor<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<T, any Error>
        do { result = .success(try await operation()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        finished.signal()
    }
    finished.wait()
    return try outcome.withLock { $0! }.get()
}
