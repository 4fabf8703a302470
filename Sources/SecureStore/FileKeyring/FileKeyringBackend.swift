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
    let passwordBytes = Locked<[UInt8]?>(nil)
    /// Whether the key opened the file the last time it was checked, by file generation.
    let keyCheck = Locked<(identity: FileIdentity, opens: Bool)?>(nil)

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

    // MARK: - What the calls share

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
}
#endif
