#if canImport(CLibSecret)
/// The item paths a search found, by the attributes searched for: never a value. With a path
/// remembered, `getItem` reads in one round trip (`GetSecrets`) instead of two.
///
/// A path is used only while no change signal has arrived since the search that found it
/// (``SecretServiceSignals/generation``), and only if the reply to that `GetSecrets` was
/// handed over before any further signal: signals and replies reach the bus filter in the
/// order the service sent them, so a delete, an edit of attributes, a new duplicate, a lock or
/// a new daemon announced before the reply voids it. On a provider that announces attribute
/// edits late (KWallet), the read also asks for the item's attributes in the same round trip
/// and uses the secret only while they still select it. Any doubt falls back to the search.
final class ItemPathMemory: Sendable {
    struct Entry: Sendable {
        var paths: [String]
        var generation: UInt64
    }

    /// Enough for any app's keys; past it, everything is forgotten at once (a week-long
    /// process must not grow).
    static let capacity = 1024

    /// Keyed by the attributes' bytes (see `ExactName`, `key(_:)`): the service matches bytes,
    /// so two canonically equivalent spellings of a name must never share a remembered path.
    private let entries = Locked<[ExactName: Entry]>([:])

    /// The attributes as one byte string: each name and value followed by NUL, in the names'
    /// byte order. Unambiguous, as no name or value of SecureStore's contains NUL (validated),
    /// and cheaper to build and hash than a dictionary of names.
    static func key(_ attributes: [String: String]) -> ExactName {
        var joined = ""
        for (name, value) in attributes.sorted(by: { ExactName($0.key) < ExactName($1.key) }) {
            joined += name
            joined += "\u{0}"
            joined += value
            joined += "\u{0}"
        }
        return ExactName(joined)
    }

    /// The paths remembered for `attributes`, if no signal has arrived since they were found.
    func recall(_ attributes: [String: String]) -> Entry? {
        let generation = SecretServiceSignals.currentGeneration
        let attributes = Self.key(attributes)
        return entries.withLock { entries in
            guard let entry = entries[attributes] else { return nil }
            guard entry.generation == generation else {
                entries[attributes] = nil
                return nil
            }
            return entry
        }
    }

    /// Remembers `paths` for `attributes`, found by a search started at `generation`, unless a
    /// signal has arrived since.
    func remember(_ paths: [String], for attributes: [String: String], foundAt generation: UInt64) {
        guard !paths.isEmpty, SecretServiceSignals.currentGeneration == generation else { return }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[Self.key(attributes)] = Entry(paths: paths, generation: generation)
        }
    }

    func forget(_ attributes: [String: String]) {
        _ = entries.withLock { $0.removeValue(forKey: Self.key(attributes)) }
    }
}
#endif
