#if canImport(CLibSecret)
/// A keyring file's contents seen through one key: which items a query selects, what an item
/// holds, whether the key opens the keyring at all, and the edits a write makes.
struct OpenedKeyring {
    let key: KeyringCrypto.Key
    var contents: KeyringContents
    /// Item positions by their `key` attribute's HMAC, while `contents` is a snapshot's
    /// unchanged (an edit drops it).
    private(set) var byKey: [[UInt8]: [Int]]?

    /// The attribute name of the key check item, which every keyring this package writes holds:
    /// its MAC verifies exactly under the right key, so a wrong key is told from a missing
    /// item even in a keyring without other items. libsecret sees it as one more item.
    static let keyCheckAttribute = "securestore-key-check"

    init(_ contents: KeyringContents, key: KeyringCrypto.Key, byKey: [[UInt8]: [Int]]? = nil) {
        self.contents = contents
        self.key = key
        self.byKey = byKey
    }

    /// Whether the key opens the keyring: a key check item verifies, or, in a keyring without
    /// one (written by libsecret), the keyring is empty or any item verifies.
    func keyOpens() throws(KeyringError) -> Bool {
        let checks = contents.items.filter { $0.mac(of: Self.keyCheckAttribute) != nil }
        let candidates = checks.isEmpty ? contents.items : checks
        if checks.isEmpty && candidates.isEmpty { return true }
        for item in candidates where try verifies(item) { return true }
        return false
    }

    /// The positions of the items whose attributes include every one of `query`.
    func positions(matching query: [String: String]) throws(KeyringError) -> [Int] {
        var hashed: [(String, [UInt8])] = []
        for (name, value) in query { hashed.append((name, try key.hashAttribute(value))) }
        let candidates: [Int]
        if let byKey, let keyMAC = hashed.first(where: { $0.0 == SecretServiceBackend.Attribute.key })?.1 {
            candidates = byKey[keyMAC] ?? []
        } else {
            candidates = Array(contents.items.indices)
        }
        return candidates.filter { index in
            let item = contents.items[index]
            return hashed.allSatisfy { name, mac in item.mac(of: name).map { KeyringCrypto.constantTimeEqual(mac, $0[...]) } ?? false }
        }
    }

    /// The plaintext of the item at `position`, checked against `query`: `unverifiable` when its
    /// MAC fails or its sealed attributes disagree with the ones it is filed under (a blob
    /// moved from another item).
    func open(at position: Int, query: [String: String]) throws(KeyringError) -> ItemPlaintext {
        guard let plaintext = try openIfVerified(contents.items[position]) else { throw .unverifiable }
        guard query.allSatisfy({ plaintext.attributes[$0.key]?.isExactly($0.value) ?? false }) else {
            var discarded = plaintext.secret
            wipe(&discarded)
            throw .unverifiable
        }
        return plaintext
    }

    /// The item's plaintext, or `nil` when its MAC does not verify under this key.
    func openIfVerified(_ item: SealedItem) throws(KeyringError) -> ItemPlaintext? {
        guard var bytes = try KeyringCrypto.open(key, item.blob) else { return nil }
        defer { wipe(&bytes) }
        return try KeyringFileFormat.decodeItem(bytes)
    }

    func verifies(_ item: SealedItem) throws(KeyringError) -> Bool {
        guard var bytes = try KeyringCrypto.open(key, item.blob) else { return false }
        wipe(&bytes)
        return true
    }

    // MARK: - Edits

    /// Removes the items at `positions`.
    mutating func remove(_ positions: [Int]) {
        byKey = nil
        let doomed = Set(positions)
        contents.items = contents.items.enumerated().filter { !doomed.contains($0.offset) }.map(\.element)
    }

    /// Seals `plaintext` and appends it, its attribute HMACs in byte order as libsecret keeps
    /// them (libsecret replaces an item only when they are equal, order included).
    mutating func append(_ plaintext: ItemPlaintext) throws(KeyringError) {
        var hashed: [(name: String, mac: [UInt8])] = []
        for (name, value) in plaintext.attributes.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            hashed.append((name, try key.hashAttribute(value)))
        }
        var bytes = KeyringFileFormat.encodeItem(plaintext)
        defer { wipe(&bytes) }
        byKey = nil
        contents.items.append(SealedItem(hashedAttributes: hashed, blob: try KeyringCrypto.seal(key, bytes)))
        contents.usageCount &+= 1
        contents.modified = plaintext.modified
    }

    /// Makes sure a key check item that this key opens is there, dropping ones it does not
    /// (a key that changed: see `FileKeyringBackend`).
    mutating func ensureKeyCheck(now: UInt64) throws(KeyringError) {
        let checks = contents.items.indices.filter { contents.items[$0].mac(of: Self.keyCheckAttribute) != nil }
        var stale: [Int] = []
        for position in checks where try !verifies(contents.items[position]) { stale.append(position) }
        remove(stale)
        guard checks.count == stale.count else { return }
        var random = try KeyringCrypto.randomSalt()
        defer { wipe(&random) }
        try append(ItemPlaintext(attributes: [Self.keyCheckAttribute: "1"], label: "SecureStore key check",
                                 created: now, modified: now, secret: random))
    }

    /// A new, empty keyring's contents.
    static func newContents(now: UInt64) throws(KeyringError) -> KeyringContents {
        KeyringContents(salt: try KeyringCrypto.randomSalt(), iterations: KeyringCrypto.iterations, modified: now, usageCount: 0, items: [])
    }
}
#endif
