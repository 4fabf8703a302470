#if canImport(CLibSecret)
/// What ``FileKeyringBackend/inspect()`` found.
public struct FileKeyringReport: Sendable, Hashable {
    public var path: String
    public var exists: Bool
    /// The file's permission bits (0600 when this package wrote it).
    public var mode: UInt32?
    /// Every item in the file, of every application, the key check item included.
    public var itemCount: Int
    /// Items whose MAC this key does not verify.
    public var unverifiableCount: Int
    /// Whether the key opens the keyring (see ``FileKeyringBackend``).
    public var keyOpens: Bool
}

extension FileKeyringBackend {
    /// What the keyring file is, for `securestore doctor` and for people: whether it exists,
    /// its mode, how many items it holds, how many of them this key does not open (sealed with
    /// a former key, or changed on disk: they can be read by no one, and only removing them
    /// frees their place), and whether the key opens the keyring at all. Reads every item.
    public func inspect() async throws -> FileKeyringReport {
        try await perform { _ in
            try self.checkPassword()
            guard let snapshot = try self.file.read() else {
                return FileKeyringReport(path: self.path, exists: false, mode: nil, itemCount: 0, unverifiableCount: 0, keyOpens: true)
            }
            let keyring = OpenedKeyring(snapshot.contents, key: try self.key(for: snapshot.contents))
            var unverifiable = 0
            for item in snapshot.contents.items where try !keyring.verifies(item) { unverifiable += 1 }
            return FileKeyringReport(path: self.path, exists: true, mode: UInt32(snapshot.mode), itemCount: snapshot.contents.items.count,
                                     unverifiableCount: unverifiable, keyOpens: try keyring.keyOpens())
        }
    }

    /// Removes the items this key does not open (see ``inspect()``): sealed with a former
    /// portal key, or changed on disk. They can be read by no one; their keys read as missing
    /// (or, for an item changed on disk, as `ERR_KEY_CHAIN`) before and after. Refused, like
    /// every write, when the key opens nothing here. Returns how many went.
    @discardableResult
    public func removeItemsThatDoNotVerify() async throws -> Int {
        try await write { cancellation in
            var removed = 0
            try self.update(cancellation) { keyring, _ throws(KeyringError) in
                var doomed: [Int] = []
                for (position, item) in keyring.contents.items.enumerated() where try !keyring.verifies(item) { doomed.append(position) }
                keyring.remove(doomed)
                removed = doomed.count
                return !doomed.isEmpty
            }
            return removed
        }
    }
}
#endif
