#if canImport(CLibSecret)
/// The keys a connection has seen stored (found by a read, or written), by their selection's
/// attributes: a hint for choosing a write's path, never an answer. A KWallet write of a key
/// not among them makes its item beside any old one in one round trip
/// (`SecretServiceBackend.writeInOneRoundTrip`), which for a key that did exist costs a second
/// write and a delete; a key seen stored takes the search first and sets the old item's secret.
final class StoredKeyHints: Sendable {
    /// As ``ItemPathMemory/capacity``: past it, everything is forgotten at once.
    static let capacity = 1024

    private let keys = Locked<Set<ExactName>>([])

    func noteStored(_ selection: [String: String]) {
        let key = ItemPathMemory.key(selection)
        keys.withLock { keys in
            if keys.count >= Self.capacity { keys.removeAll() }
            keys.insert(key)
        }
    }

    func noteDeleted(_ selection: [String: String]) {
        let key = ItemPathMemory.key(selection)
        _ = keys.withLock { $0.remove(key) }
    }

    func mayBeStored(_ selection: [String: String]) -> Bool {
        let key = ItemPathMemory.key(selection)
        return keys.withLock { $0.contains(key) }
    }
}
#endif
