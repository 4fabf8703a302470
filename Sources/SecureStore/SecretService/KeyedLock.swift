/// Serialises async work per key within the process: whoever holds a key's lock runs, the rest
/// wait in order. Writers of one item take it so that concurrent overwrites cannot leave two
/// items behind.
actor KeyedLock<Key: Hashable & Sendable> {
    /// A key is held while it has an entry; the entry lists the tasks waiting for it.
    private var waiting: [Key: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: Key, _ body: @Sendable () async throws -> T) async throws -> T {
        await lock(key)
        do {
            let result = try await body()
            unlock(key)
            return result
        } catch {
            unlock(key)
            throw error
        }
    }

    private func lock(_ key: Key) async {
        guard waiting[key] != nil else {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key]!.append($0) }
    }

    private func unlock(_ key: Key) {
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue
        next.resume()
    }
}
