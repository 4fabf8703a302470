import SecureStore
import Synchronization

/// A backend of your own, as small as one can be: items in a dictionary that every backend
/// made with the same `Storage` shares. Its test (`Tests/DictionaryBackendTests.swift`) holds
/// it to the contract with `SecureStoreContract`; a backend on another store (Apple's
/// keychain, a database, a vault service) is tested the same way.
public final class DictionaryBackend: SecureStoreBackend {
    /// The items of every application, by their identity.
    public final class Storage: Sendable {
        let items = Mutex<[Identity: [UInt8]]>([:])
        public init() {}
    }

    /// What identifies an item (see ``SecureStoreBackend``): its namespace, service, key and
    /// synchronizable state. Names are compared by their UTF-8 bytes, as the contract asks.
    struct Identity: Hashable {
        var namespace: [UInt8]
        var isGroup: Bool
        var service: [UInt8]
        var key: [UInt8]
        var isSynchronizable: Bool
    }

    let applicationID: String
    let storage: Storage

    public init(applicationID: String, storage: Storage) {
        self.applicationID = applicationID
        self.storage = storage
    }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool { true }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        storage.items.withLock { items in
            let existing = identities(key, options).filter { items[$0] != nil }
            // `.any` updates every item of the key, or makes a non-synchronizable one.
            let targets = existing.isEmpty ? [identity(key, options, isSynchronizable: options.synchronizable == .yes)] : existing
            for target in targets { items[target] = value }
        }
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        let identities = identities(key, options)
        return storage.items.withLock { items in identities.compactMap { items[$0] }.first }
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        storage.items.withLock { items in identities(key, options).forEach { items[$0] = nil } }
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try await getItem(forKey: key, options: options) != nil
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        let selected = storage.items.withLock { items in items.keys.filter { selects($0, options) } }
        return Set(selected.map(\.key)).sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        storage.items.withLock { items in items = items.filter { !selects($0.key, options) } }
    }

    /// The identities `options` selects for `key`, the non-synchronizable one first.
    private func identities(_ key: String, _ options: SecureStoreOptions) -> [Identity] {
        options.synchronizable.matchingStates.map { identity(key, options, isSynchronizable: $0) }
    }

    private func identity(_ key: String, _ options: SecureStoreOptions, isSynchronizable: Bool) -> Identity {
        Identity(namespace: Array((options.accessGroup ?? applicationID).utf8), isGroup: options.accessGroup != nil,
                 service: Array(options.service.utf8), key: Array(key.utf8), isSynchronizable: isSynchronizable)
    }

    private func selects(_ item: Identity, _ options: SecureStoreOptions) -> Bool {
        let any = identity("", options, isSynchronizable: false)
        return item.namespace == any.namespace && item.isGroup == any.isGroup && item.service == any.service
            && options.synchronizable.matchingStates.contains(item.isSynchronizable)
    }
}
