#if canImport(CLibSecret)
import Glibc

/// How the file keyring's calls run: on its own threads, writes of a file one at a time in
/// this process, reads on the caller's task while the file is unchanged.
extension FileKeyringBackend {
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
        try checkPassword()
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
        try checkPassword()
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
}
#endif
