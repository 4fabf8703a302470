/// Where a ``SecureStore`` keeps its items.
///
/// SecureStore ships two backends: ``SecretServiceBackend`` (the desktop's keyring, the default
/// on Linux) and ``InMemoryBackend`` (a test double with the same behaviour). Write your own to
/// put items elsewhere; the package's contract test suite states every rule below as a test.
///
/// ## The contract
///
/// ``SecureStore`` validates before it calls a backend, so a backend may rely on this:
/// every key matches `^[A-Za-z0-9._-]+$`; every value is at most ``SecureStore/maximumValueSize``
/// bytes of UTF-8; `options.service` is non-empty and holds no NUL; `requireAuthentication` is
/// `false` unless ``canUseBiometricAuthentication`` is `true`; a write never combines
/// `synchronizable: .yes` or `.any` with a `*ThisDeviceOnly` accessibility.
///
/// In return a backend must:
/// - Identify an item by (application, `options.service`, key, synchronizable). Items of one
///   application or service are invisible to every other, including to ``allKeys(options:)``
///   and ``deleteAll(options:)``.
/// - Select items by `options.synchronizable` (``Synchronizable/matchingStates``): `.no` only
///   non-synchronizable items, `.yes` only synchronizable ones, `.any` both, preferring the
///   non-synchronizable item when a read finds both.
/// - On ``setItem(_:forKey:options:)``, replace both the value and the accessibility of an
///   existing item, never let an existing key read as missing meanwhile, and leave exactly one
///   item per (key, synchronizable state). With `.any`, update every existing item of the key,
///   or create a non-synchronizable one when there is none.
/// - Return values exactly as stored, byte for byte, including the empty string and U+0000.
/// - Return `nil` from ``getItem(forKey:options:)`` only when no matching item exists: an item
///   that exists but cannot be read (a locked keyring) throws. Deleting a missing key succeeds.
/// - Throw only ``SecureStoreError`` or `CancellationError`, never one that contains a value.
/// - Be safe to call from many tasks at once, and never block Swift's cooperative thread pool.
public protocol SecureStoreBackend: Sendable {
    /// Stores `value` under `key`, replacing any existing value and accessibility.
    func setItem(_ value: String, forKey key: String, options: SecureStoreOptions) async throws
    /// The value stored under `key`, or `nil` when there is no such item.
    func getItem(forKey key: String, options: SecureStoreOptions) async throws -> String?
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
}
