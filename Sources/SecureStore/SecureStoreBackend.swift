/// Where a ``SecureStore`` keeps its items.
///
/// SecureStore ships two backends: ``SecretServiceBackend`` (the desktop's keyring, the default
/// on Linux) and ``InMemoryBackend`` (a test double with the same behaviour). Write your own to
/// put items elsewhere; the package's contract test suite states every rule below as a test,
/// and the `SecureStoreContract` library's `BackendContract` runs the rules a backend can be
/// checked by from outside against yours.
///
/// ## The contract
///
/// ``SecureStore`` validates before it calls a backend, so a backend may rely on this:
/// every key matches `^[A-Za-z0-9._-]+$`; every value is at most ``SecureStore/maximumValueSize``
/// bytes; `options.service` and `options.accessGroup` are non-empty (or `nil`), hold no control
/// character and do not start with U+FEFF;
/// `requireAuthentication` is
/// `false` unless ``canUseBiometricAuthentication`` is `true`; a write never combines
/// `synchronizable: .yes` or `.any` with a `*ThisDeviceOnly` accessibility.
///
/// In return a backend must:
/// - Identify an item by (namespace, `options.service`, key, synchronizable), where the namespace
///   is `options.accessGroup` when it is set and the application otherwise. Items of one
///   namespace or service are invisible to every other, including to ``allKeys(options:)`` and
///   ``deleteAll(options:)``: an application's own items and the items of a group it names are
///   apart, and every application that names a group sees the same items.
/// - Select items by `options.synchronizable` (``Synchronizable/matchingStates``): `.no` only
///   non-synchronizable items, `.yes` only synchronizable ones, `.any` both, preferring the
///   non-synchronizable item when a read finds both.
/// - On ``setItem(_:kind:forKey:options:)``, replace both the value and the accessibility of an
///   existing item, never let an existing key read as missing meanwhile, and leave exactly one
///   item per (key, synchronizable state). With `.any`, update every existing item of the key,
///   or create a non-synchronizable one when there is none.
/// - Return values exactly as stored, byte for byte (empty, NUL and bytes that are not UTF-8
///   included), whatever ``ValueKind`` they were stored with; keep the kind as a label only.
/// - Return `nil` from ``getItem(forKey:options:)`` only when no matching item exists: an item
///   that exists but cannot be read (a locked keyring) throws. Deleting a missing key succeeds.
/// - Throw only ``SecureStoreError`` or `CancellationError`, never one that contains a value.
/// - Be safe to call from many tasks at once, and never block Swift's cooperative thread pool.
public protocol SecureStoreBackend: Sendable {
    /// Stores `value` under `key`, replacing any existing value and accessibility. `kind` says
    /// whether the bytes are text (UTF-8) or not, for other programs that show the item.
    func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws
    /// The bytes stored under `key`, exactly, or `nil` when there is no such item.
    func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]?
    /// Removes the item; succeeds when there is none.
    func deleteItem(forKey key: String, options: SecureStoreOptions) async throws
    /// Whether an item exists under `key`, without reading (or unlocking) its value.
    func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool
    /// The keys of `options.service`, sorted, each once.
    func allKeys(options: SecureStoreOptions) async throws -> [String]
    /// Removes every item of `options.service` that `options.synchronizable` selects.
    func deleteAll(options: SecureStoreOptions) async throws
    /// Whether the backend can be used now. Never prompts, never throws, answers quickly.
    func isAvailable() async -> Bool
    /// Whether `requireAuthentication: true` can be honoured.
    var canUseBiometricAuthentication: Bool { get }
    /// The changes to the items `options` select (namespace, service, synchronizable state),
    /// by anyone, and to their keyring, from the moment this returns: every write of a key
    /// that had no item yields ``SecureStoreChange/added(key:)`` before any other change of
    /// that key, an overwrite one or more ``SecureStoreChange/changed(key:)`` and never a
    /// removal, a delete ``SecureStoreChange/removed(key:)``. Items of other namespaces and
    /// services yield nothing. The stream ends when the iterating task is cancelled, and then
    /// frees what it held. A backend that cannot observe changes returns a stream that ends at
    /// once (the default).
    func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange>
}

extension SecureStoreBackend {
    /// A stream that ends at once: this backend cannot observe changes.
    public func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        AsyncStream { $0.finish() }
    }
}

/// What a stored value is, for the programs that show items to people (Seahorse,
/// `secret-tool`): the Secret Service's content type. Values are bytes either way, and read
/// back exactly.
public enum ValueKind: Sendable, Hashable {
    /// UTF-8 text, stored from a `String` (`text/plain`).
    case text
    /// Bytes (`application/octet-stream`).
    case bytes

    /// The Secret Service content type: `text/plain` or `application/octet-stream`.
    public var contentType: String {
        switch self {
        case .text: "text/plain"
        case .bytes: "application/octet-stream"
        }
    }
}
