/// A ``SecureStoreBackend`` that keeps items in memory, with the Secret Service backend's
/// semantics: application and service isolation, the accessibility and synchronizable rules,
/// overwrite and delete behaviour, even a locked keyring.
///
/// Use it in your own tests, the way swift-log's in-memory handler is used: a test that passes
/// against it means the same against the desktop keyring.
///
/// ```swift
/// let store = SecureStore(backend: InMemoryBackend())
/// try await store.setItem("token", "abc")
/// ```
///
/// Backends that share one ``Keyring`` behave like applications sharing one desktop keyring:
/// each sees only its own ``applicationID``'s items, and the items of the access groups it names.
public final class InMemoryBackend: SecureStoreBackend {
    /// Storage shared by the backends made with it, like a desktop keyring shared by apps.
    public final class Keyring: Sendable {
        // A pthread mutex (Locked), not Synchronization.Mutex: ThreadSanitizer cannot see the
        // futex behind the latter on Linux and reported every access as a race.
        fileprivate let state = Locked(State())

        public init() {}

        /// While `true`, values cannot be read, written or deleted: such calls throw
        /// ``SecureStoreError/Code/interactionNotAllowed``, as the Secret Service backend does
        /// with a locked keyring and no user interaction. Keys can still be listed and checked.
        public var isLocked: Bool {
            get { state.withLock { $0.isLocked } }
            set {
                state.withLock { state in
                    guard state.isLocked != newValue else { return }
                    state.isLocked = newValue
                    state.announce(newValue ? .locked : .unlocked)
                }
            }
        }

        /// While set, every call throws this error and ``InMemoryBackend/isAvailable()`` is
        /// `false`: for testing how your code handles an unavailable or failing keyring.
        public var simulatedError: SecureStoreError? {
            get { state.withLock { $0.simulatedError } }
            set {
                state.withLock { state in
                    let wasAvailable = state.simulatedError == nil
                    state.simulatedError = newValue
                    if wasAvailable != (newValue == nil) { state.announce(wasAvailable ? .serviceUnavailable : .serviceAvailable) }
                }
            }
        }

        /// How many `changes(options:)` streams are open on this keyring.
        var watcherCount: Int { state.withLock { $0.watchers.count } }

        /// Every item's attributes (never its value), ordered by application, service, key.
        public var records: [Record] {
            state.withLock { state in
                state.items.map { id, item in
                    Record(application: id.namespace.application, accessGroup: id.namespace.accessGroup,
                           service: id.service.string, key: id.key.string, accessible: item.accessible,
                           isSynchronizable: id.isSynchronizable)
                }
            }.sorted { ($0.application ?? "", $0.accessGroup ?? "", $0.service, $0.key) < ($1.application ?? "", $1.accessGroup ?? "", $1.service, $1.key) }
        }
    }

    /// What is stored about an item, its value left out (``ItemRecord``).
    public typealias Record = ItemRecord

    /// Whose item it is: an application's own, or an access group's (shared by every
    /// application that names the group). Names are their bytes, as in the Secret Service
    /// (see `ExactName`).
    fileprivate enum Namespace: Hashable {
        case application(ExactName)
        case accessGroup(ExactName)

        var application: String? { if case .application(let name) = self { name.string } else { nil } }
        var accessGroup: String? { if case .accessGroup(let name) = self { name.string } else { nil } }
    }

    fileprivate struct ItemID: Hashable {
        var namespace: Namespace
        var service: ExactName
        var key: ExactName
        var isSynchronizable: Bool
    }

    fileprivate struct Item {
        var value: [UInt8]
        var accessible: KeychainAccessible
    }

    /// A `changes(options:)` stream: what it selects, and where its changes go.
    fileprivate struct Watcher {
        var namespace: Namespace
        var service: ExactName
        var states: [Bool]
        var continuation: AsyncStream<SecureStoreChange>.Continuation
    }

    fileprivate struct State {
        var items: [ItemID: Item] = [:]
        var isLocked = false
        var simulatedError: SecureStoreError?
        var watchers: [UInt64: Watcher] = [:]
        var lastWatcher: UInt64 = 0

        /// Tells every watcher about a change to the whole keyring.
        func announce(_ change: SecureStoreChange) {
            for watcher in watchers.values { watcher.continuation.yield(change) }
        }

        /// Tells the watchers what writing or deleting the items `before` names did to their
        /// keys, given what those items were before (`nil`: none).
        func announce(changing before: [ItemID: Item?]) {
            for watcher in watchers.values {
                let keys = Set(before.keys.filter { $0.namespace == watcher.namespace && $0.service == watcher.service
                    && watcher.states.contains($0.isSynchronizable) }.map(\.key))
                for key in keys.sorted() {
                    let ids = watcher.states.map { ItemID(namespace: watcher.namespace, service: watcher.service, key: key, isSynchronizable: $0) }
                    let had = ids.contains { id in before[id].map { $0 != nil } ?? (items[id] != nil) }
                    let has = ids.contains { items[$0] != nil }
                    switch (had, has) {
                    case (false, true): watcher.continuation.yield(.added(key: key.string))
                    case (true, true): watcher.continuation.yield(.changed(key: key.string))
                    case (true, false): watcher.continuation.yield(.removed(key: key.string))
                    case (false, false): break
                    }
                }
            }
        }
    }

    /// The namespace this backend's items live in.
    public let applicationID: String
    /// The storage, possibly shared with other backends.
    public let keyring: Keyring

    /// A backend over `keyring` (a new, private one by default) for `applicationID`. An
    /// application ID that ``SecretServiceBackend`` would refuse (empty, or with a control
    /// character or a leading U+FEFF) makes every call throw
    /// ``SecureStoreError/Code/invalidOptions``, and `isAvailable()` `false`, as that backend's
    /// `init` throws: tests see the same error.
    public init(applicationID: String = "app", keyring: Keyring = Keyring()) {
        self.applicationID = applicationID
        self.keyring = keyring
    }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool {
        (try? Validation.checkApplicationID(applicationID)) != nil && keyring.state.withLock { $0.simulatedError == nil }
    }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        try withUnlockedState { state in
            var targets = options.synchronizable.matchingStates
            if options.synchronizable == .any {
                // Update every item the key has; with none, create a non-synchronizable one.
                targets = targets.filter { state.items[id(key, options, $0)] != nil }
                if targets.isEmpty { targets = [false] }
            }
            let before = Dictionary(uniqueKeysWithValues: targets.map { (id(key, options, $0), state.items[id(key, options, $0)]) })
            for isSynchronizable in targets {
                state.items[id(key, options, isSynchronizable)] = Item(value: value, accessible: options.keychainAccessible)
            }
            state.announce(changing: before)
        }
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        try withState { state in
            let found = options.synchronizable.matchingStates.compactMap { state.items[id(key, options, $0)] }.first
            guard let found else { return nil }
            guard !state.isLocked else { throw lockedError }
            return found.value
        }
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try withState { state in
            let ids = options.synchronizable.matchingStates.map { id(key, options, $0) }.filter { state.items[$0] != nil }
            guard !ids.isEmpty else { return }
            guard !state.isLocked else { throw lockedError }
            let before = Dictionary(uniqueKeysWithValues: ids.map { ($0, state.items[$0]) })
            for id in ids { state.items[id] = nil }
            state.announce(changing: before)
        }
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try withState { state in
            options.synchronizable.matchingStates.contains { state.items[id(key, options, $0)] != nil }
        }
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try withState { state in
            Set(state.items.keys.filter { matches($0, options) }.map(\.key)).sorted().map(\.string)
        }
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try withState { state in
            let ids = state.items.keys.filter { matches($0, options) }
            guard !ids.isEmpty else { return }
            guard !state.isLocked else { throw lockedError }
            let before = Dictionary(uniqueKeysWithValues: ids.map { ($0, state.items[$0]) })
            for id in ids { state.items[id] = nil }
            state.announce(changing: before)
        }
    }

    /// Changes made through any backend of this ``keyring``, and the keyring's own
    /// (``Keyring/isLocked``, and ``Keyring/simulatedError`` set and cleared as the service
    /// going away and coming back), as the Secret Service backend reports them. A stream made
    /// while an error is simulated starts with ``SecureStoreChange/serviceUnavailable``.
    public func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        try Validation.checkApplicationID(applicationID)
        let (stream, continuation) = AsyncStream.makeStream(of: SecureStoreChange.self)
        let token = keyring.state.withLock { state in
            state.lastWatcher += 1
            state.watchers[state.lastWatcher] = Watcher(namespace: namespace(options), service: ExactName(options.service),
                                                        states: options.synchronizable.matchingStates, continuation: continuation)
            if state.simulatedError != nil { continuation.yield(.serviceUnavailable) }
            return state.lastWatcher
        }
        continuation.onTermination = { [keyring] _ in
            _ = keyring.state.withLock { $0.watchers.removeValue(forKey: token) }
        }
        return stream
    }

    // MARK: - Helpers

    private var lockedError: SecureStoreError {
        SecureStoreError(.interactionNotAllowed, "The keyring is locked and user interaction is not allowed.")
    }

    private func id(_ key: String, _ options: SecureStoreOptions, _ isSynchronizable: Bool) -> ItemID {
        ItemID(namespace: namespace(options), service: ExactName(options.service), key: ExactName(key), isSynchronizable: isSynchronizable)
    }

    private func namespace(_ options: SecureStoreOptions) -> Namespace {
        options.accessGroup.map { .accessGroup(ExactName($0)) } ?? .application(ExactName(applicationID))
    }

    private func matches(_ id: ItemID, _ options: SecureStoreOptions) -> Bool {
        id.namespace == namespace(options) && id.service == ExactName(options.service)
            && options.synchronizable.matchingStates.contains(id.isSynchronizable)
    }

    private func withState<T>(_ body: (inout State) throws -> T) throws -> T {
        try Validation.checkApplicationID(applicationID)
        return try keyring.state.withLock { state in
            if let error = state.simulatedError { throw error }
            return try body(&state)
        }
    }

    /// For writes: a locked keyring refuses them even when the key is new, as gnome-keyring does.
    private func withUnlockedState<T>(_ body: (inout State) throws -> T) throws -> T {
        try withState { state in
            guard !state.isLocked else { throw lockedError }
            return try body(&state)
        }
    }
}
