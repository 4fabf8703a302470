#if canImport(CLibSecret)
import Logging
import Glibc

/// A keyring of the app's own in one encrypted file, in libsecret's file format: what a
/// sandboxed app uses (``SandboxKeyringBackend``, with the Secret portal's key), and what a
/// machine without a desktop can use with a password file or a systemd credential.
///
/// Items carry the attributes they carry on the Secret Service (see ``SecretServiceBackend``),
/// the accessibility in the label (`app / service / key [WHEN_UNLOCKED]`), so that libsecret
/// (`SECRET_BACKEND=file SECRET_FILE_TEST_PATH=PATH SECRET_FILE_TEST_PASSWORD=... secret-tool`)
/// reads this package's items and this package reads libsecret's. Every rule of the backend
/// contract holds, and:
/// - Several processes share the file safely: a write locks it (`PATH.lock`), applies its
///   change to the latest contents and renames a new file into place, so no acknowledged write
///   is lost and a process killed mid-write leaves the old file or the new one. A read takes no
///   lock and re-reads the file only when it changed, so it never serves a value another
///   process has overwritten or deleted, and costs a hash lookup and one item's decryption.
/// - Nothing is ever locked and nothing prompts.
/// - The file is 0600; a folder it creates, 0700. No copy of old contents is kept (libsecret's
///   `PATH~` is removed by the next write).
/// - A password (from a file or a credential) that opens none of the keyring's items is refused
///   (``SecureStoreError/Code/keyChain``) before anything changes, never read as "not found".
///   The keyring holds a key check item for this, so even an empty keyring tells a wrong
///   password. The portal's key is taken as it comes (see ``SandboxKeyringBackend``).
/// - An item that does not verify (changed on disk, or sealed with another key) is an error
///   for its key only; other keys, writes, ``allKeys(options:)`` and deletes go on.
/// - ``changes(options:)`` reports every process's writes (inotify on the folder).
///
/// Code that calls libsecret's file backend on the same file takes no lock: its write can
/// still fail with "externally modified", or, in the instant between its check and its
/// rename, replace a write of this package's. Keep one writer per file, or all writers here.
public final class FileKeyringBackend: SecureStoreBackend {
    public let applicationID: String
    /// The keyring file's absolute path.
    public let path: String
    public let password: KeyringPassword
    /// How long a call may wait for the file's lock (another process's write) and the password.
    public let timeout: Duration
    /// Where the backend logs what it does on its own, at `debug` level (the password read, a
    /// wait for this process's earlier write) and `trace` level (the file read again because it
    /// changed). Never a value or the password.
    public let logger: Logger

    let file: KeyringFile
    /// The password, read at first use.
    private let passwordBytes = Locked<[UInt8]?>(nil)
    /// Whether the key opened the file the last time it was checked, by file generation.
    private let keyCheck = Locked<(identity: FileIdentity, opens: Bool)?>(nil)

    /// A backend for `applicationID`'s items in the keyring file at `path`, whose key comes
    /// from `password`.
    ///
    /// - Parameters:
    ///   - applicationID: A stable name for your app, such as `com.example.MyApp`.
    ///   - path: The keyring file's absolute path; the file is made on the first write.
    ///   - password: Where the keyring's password comes from.
    ///   - timeout: How long a call may wait for the file's lock and the password.
    ///   - logger: Where the backend logs (see ``logger``); by default nowhere.
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an application ID that is empty or
    ///   has a control character, a path that is not absolute, or a timeout that is not
    ///   positive. Nothing is read yet.
    public convenience init(applicationID: String, path: String, password: KeyringPassword, timeout: Duration = .seconds(30),
                            logger: Logger? = nil) throws {
        try self.init(applicationID: applicationID, path: path, password: password, timeout: timeout, logger: logger, checked: ())
    }

    init(applicationID: String, path: String, password: KeyringPassword, timeout: Duration, logger: Logger?,
         checked: Void) throws(SecureStoreError) {
        try Validation.checkApplicationID(applicationID)
        guard path.hasPrefix("/"), !path.hasSuffix("/"), !path.utf8.contains(0) else {
            throw SecureStoreError.invalidOptions("The keyring file's path must be absolute, and name a file: '\(path)'.")
        }
        guard timeout > .zero else { throw SecureStoreError.invalidOptions("The timeout must be positive.") }
        self.applicationID = applicationID
        self.path = path
        self.password = password
        self.timeout = timeout
        self.logger = logger ?? .disabled
        self.file = KeyringFile.at(path)
    }

    public var canUseBiometricAuthentication: Bool { false }

    /// `true` when the password can be had and opens the file (or there is no file yet).
    /// Answers on a thread of its own, not behind writes waiting for the file's lock.
    public func isAvailable() async -> Bool {
        (try? await read(on: Self.availabilityWorkers, timeout: min(timeout, .seconds(3))) { _ in () } ifMissing: { () }) != nil
    }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        let label = SandboxKeyringBackend.label(applicationID: applicationID, key: key, options: options)
        try await write { cancellation in
            try self.update(cancellation) { keyring, now throws(KeyringError) in
                let states = options.synchronizable.matchingStates
                var targets = states
                if states.count > 1 {
                    targets = []
                    for state in states where !(try keyring.positions(matching: self.attributes(key, options, state)).isEmpty) {
                        targets.append(state)
                    }
                    if targets.isEmpty { targets = [states[0]] }
                }
                for state in targets {
                    let attributes = self.attributes(key, options, state)
                    let existing = try keyring.positions(matching: attributes)
                    var createdTime = now
                    for position in existing {
                        guard var previous = try? keyring.openIfVerified(keyring.contents.items[position]) else { continue }
                        createdTime = previous.created
                        wipe(&previous.secret)
                        break
                    }
                    keyring.remove(existing)
                    try keyring.append(ItemPlaintext(attributes: attributes, label: label, created: createdTime, modified: now, secret: value))
                }
                return true
            }
        }
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        let found = try await read { keyring throws(KeyringError) -> SecretBytes? in
            for state in options.synchronizable.matchingStates {
                let attributes = self.attributes(key, options, state)
                let positions = try keyring.positions(matching: attributes)
                guard !positions.isEmpty else { continue }
                // Several items under one name (written by another program): the newest,
                // the later in the file on a tie; any that does not verify fails the read.
                var newest: ItemPlaintext?
                for position in positions {
                    var item = try keyring.open(at: position, query: attributes)
                    if let current = newest, current.modified > item.modified {
                        wipe(&item.secret)
                    } else {
                        if var replaced = newest { wipe(&replaced.secret) }
                        newest = item
                    }
                }
                guard var chosen = newest else { continue }
                defer { wipe(&chosen.secret) }
                return SecretBytes(chosen.secret)
            }
            return nil
        } ifMissing: { nil }
        // Taken here, on the caller's task: see `SecretBytes`.
        return found?.take()
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try await removeItems(self.attributes(key, options, nil))
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try await read { keyring throws(KeyringError) in
            !(try keyring.positions(matching: self.attributes(key, options, nil)).isEmpty)
        } ifMissing: { false }
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try await read { keyring throws(KeyringError) -> [String] in
            var keys: Set<ExactName> = []
            for position in try keyring.positions(matching: self.attributes(nil, options, nil)) {
                // An item that does not verify names no key that can be trusted.
                guard var item = try? keyring.openIfVerified(keyring.contents.items[position]) else { continue }
                wipe(&item.secret)
                if let key = item.attributes[Attribute.key], Validation.isValidKey(key) { keys.insert(ExactName(key)) }
            }
            return keys.sorted().map(\.string)
        } ifMissing: { [] }
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try await removeItems(self.attributes(nil, options, nil))
    }

    // MARK: - Internal, for tests and tools

    /// What the keyring records about this application's items under (service, key), values
    /// left out; one entry per item.
    func records(service: String, key: String, accessGroup: String? = nil) async throws -> [ItemRecord] {
        let options = SecureStoreOptions(keychainService: service, synchronizable: .any, accessGroup: accessGroup)
        return try await perform { _ in
            try self.withContents { keyring throws(KeyringError) in
                let attributes = self.attributes(key, options, nil)
                return try keyring.positions(matching: attributes).map { position throws(KeyringError) in
                    var item = try keyring.open(at: position, query: attributes)
                    wipe(&item.secret)
                    var record = ItemSchema.record(item.attributes)
                    record.accessible = SandboxKeyringBackend.accessibility(inLabel: item.label) ?? .whenUnlocked
                    return record
                }
            } ifMissing: { [] }
        }
    }

    /// Deletes every item of this application (or with `accessGroup`, of that group).
    func deleteEverything(accessGroup: String? = nil) async throws {
        var attributes = ItemSchema.namespace(applicationID: applicationID, accessGroup)
        attributes[Attribute.schema] = SecretServiceBackend.schemaName
        try await removeItems(attributes)
    }

    // MARK: - Running calls

    typealias Attribute = SecretServiceBackend.Attribute

    private func attributes(_ key: String?, _ options: SecureStoreOptions, _ isSynchronizable: Bool?) -> [String: String] {
        ItemSchema.attributes(applicationID: applicationID, key: key, options: options, isSynchronizable: isSynchronizable)
    }

    private func removeItems(_ attributes: [String: String]) async throws {
        try await write { cancellation in
            try self.update(cancellation) { keyring, _ throws(KeyringError) in
                let doomed = try keyring.positions(matching: attributes)
                keyring.remove(doomed)
                return !doomed.isEmpty
            }
        }
    }

    /// The file keyring's threads: a call blocks on the file and, for a write, on its lock.
    static let workers = BlockingWorkers(maximumThreads: 4)
    /// The writers of each file in this process, one at a time: a writer waits here, holding no
    /// thread, rather than on the file's lock on one of the few `workers`.
    private static let writers = KeyedLock<ExactName>()

    /// Runs a write (`perform`) once this process's earlier writes of the file are done.
    func write<T: Sendable>(_ work: @escaping @Sendable (GCancellation) throws -> T) async throws -> T {
        let logger = logger, path = path
        return try await Self.writers.withLock(ExactName(path), timeout: timeout, waited: { waited in
            logger.debug("Waited for this process's earlier write of the keyring file",
                         metadata: [LogKey.keyring: "\(path)", LogKey.durationMilliseconds: waited.loggedMilliseconds])
        }) { try await self.perform(work) }
    }

    /// `isAvailable`'s threads, so that it answers while writes queue on the others.
    static let availabilityWorkers = BlockingWorkers(maximumThreads: 2)

    /// Runs blocking `work` on one of the backend's threads (`workers`) with the store's
    /// timeout, and maps what it throws to `SecureStoreError`.
    func perform<T: Sendable>(on workers: BlockingWorkers = FileKeyringBackend.workers, timeout: Duration? = nil,
                              _ work: @escaping @Sendable (GCancellation) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let timeout = timeout ?? self.timeout
        let path = self.path
        do {
            return try await workers.run(timeout: timeout, cancelsCalls: false) { cancellation in
                do {
                    return try work(cancellation)
                } catch let error as KeyringError {
                    throw error.secureStoreError(path: path)
                }
            }
        } catch let error as SecureStoreError where error.code == .timeout {
            throw SecureStoreError(.timeout, "The keyring file \(path) was not done within \(timeout) (other writers of the file, or a slow disk).")
        } catch {
            throw SecretServiceBackend.secureStoreError(from: error)
        }
    }

    /// Runs `body` on the file's current contents, opened with the key; `ifMissing` when there
    /// is no file. A file unchanged since it was last read, with the password known, is read
    /// on the caller's task (a `stat`, hashes and one item's decryption: microseconds); all
    /// else, which may wait (for the portal, or to read a changed file), on the backend's
    /// threads.
    func read<T: Sendable>(on workers: BlockingWorkers = FileKeyringBackend.workers, timeout: Duration? = nil,
                           _ body: @escaping @Sendable (OpenedKeyring) throws(KeyringError) -> T,
                           ifMissing: @escaping @Sendable () -> T) async throws -> T {
        try Task.checkCancellation()
        if passwordBytes.withLock({ $0 != nil }), let snapshot = file.snapshotIfUnchanged() {
            do {
                return try body(try opened(snapshot))
            } catch {
                throw error.secureStoreError(path: path)
            }
        }
        logger.trace("Reading the keyring file (changed since it was last read, or not read yet)", metadata: [LogKey.keyring: "\(path)"])
        return try await perform(on: workers, timeout: timeout) { _ in try self.withContents(body, ifMissing: ifMissing) }
    }

    /// `read`'s blocking form, on the backend's threads.
    func withContents<T>(_ body: (OpenedKeyring) throws(KeyringError) -> T, ifMissing: () -> T) throws -> T {
        // The password first: a keyring whose key cannot be had is an error, file or none.
        _ = try passwordNow()
        guard let snapshot = try file.read() else { return ifMissing() }
        return try body(try opened(snapshot))
    }

    /// The snapshot's contents opened with the key, which must open them unless the key comes
    /// from the portal (see ``KeyringPassword``).
    private func opened(_ snapshot: KeyringFile.Snapshot) throws(KeyringError) -> OpenedKeyring {
        let keyring = OpenedKeyring(snapshot.contents, key: try key(for: snapshot.contents), byKey: snapshot.byKey)
        guard password.refusesAnotherKey else { return keyring }
        if let known = keyCheck.withLock({ $0 }), known.identity == snapshot.identity {
            guard known.opens else { throw .wrongKey }
            return keyring
        }
        let opens = try keyring.keyOpens()
        keyCheck.withLock { $0 = (snapshot.identity, opens) }
        guard opens else { throw .wrongKey }
        return keyring
    }

    /// Applies `change` to the file's latest contents under its lock, and writes them when it
    /// returns `true`. Blocking.
    func update(_ cancellation: GCancellation, _ change: (inout OpenedKeyring, _ now: UInt64) throws(KeyringError) -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        let now = UInt64(max(0, time(nil)))
        // Before anything is created: without the key, nothing is written anywhere.
        _ = try passwordNow()
        // The key is derived before the lock is taken (100,000 PBKDF2 rounds, which a writer
        // holding the lock would make every other writer wait for): from the file as it is now,
        // which a write under the lock rarely finds with another salt.
        if let snapshot = try? file.read() { _ = try? key(for: snapshot.contents) }
        try file.update(canWait: { !cancellation.isCancelled && ContinuousClock.now < deadline },
                        newContents: { () throws(KeyringError) in try OpenedKeyring.newContents(now: now) }) { contents, snapshot throws(KeyringError) in
            var keyring = OpenedKeyring(contents, key: try self.key(for: contents), byKey: snapshot?.byKey)
            if password.refusesAnotherKey, try !keyring.keyOpens() { throw .wrongKey }
            guard try change(&keyring, now) else { return (false, ()) }
            try keyring.ensureKeyCheck(now: now)
            contents = keyring.contents
            return (true, ())
        }
    }

    /// The key for `contents`' salt and iteration count, from the password.
    func key(for contents: KeyringContents) throws(KeyringError) -> KeyringCrypto.Key {
        try KeyCache.key(password: try passwordNow(), salt: contents.salt, iterations: contents.iterations)
    }

    /// Fails unless the password can be had. Blocking.
    func checkPassword() throws(KeyringError) {
        _ = try passwordNow()
    }

    private func passwordNow() throws(KeyringError) -> [UInt8] {
        if let bytes = passwordBytes.withLock({ $0 }) { return bytes }
        let bytes: [UInt8]
        let start = ContinuousClock.now
        do {
            switch password.source {
            case .file(let path): bytes = try KeyringPassword.read(path: path, what: "password file")
            case .credential(let name): bytes = try KeyringPassword.read(path: try KeyringPassword.credentialPath(name), what: "credential")
            case .secretPortal: bytes = try PortalSecret.password(timeout: timeout)
            case .portalLike(let key): bytes = key
            }
        } catch {
            throw .password(error)
        }
        logger.debug("Read the keyring's password", metadata: [
            LogKey.keyring: "\(path)", LogKey.passwordSource: "\(password.description)",
            LogKey.durationMilliseconds: (ContinuousClock.now - start).loggedMilliseconds,
        ])
        passwordBytes.withLock { $0 = bytes }
        return bytes
    }
}
#endif
