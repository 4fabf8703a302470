#if canImport(CLibSecret)
import Synchronization

/// How many writes of this process may be on a path that blocks no thread at once: GNOME
/// Keyring's one-round-trip write, KeePassXC's search with `CreateItem` beside it. Past the
/// limit a write takes the full path, whose worker threads (`BlockingWorkers.shared`) bound how
/// many writes wait at the service: the service answers calls in order, so hundreds of writes
/// queued there would hold up every other call of the process (an `isAvailable` past its 3 s,
/// `ReliabilityTests.isAvailableAnswersPromptlyWhileManyWritesQueue`).
enum NonBlockingWriteSlots {
    static let limit = 4
    private static let taken = Atomic(0)

    /// Runs `write` in a slot; `nil` at once when every slot is taken.
    static func withSlot<T>(_ write: () async throws -> T) async rethrows -> T? {
        guard taken.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            taken.wrappingSubtract(1, ordering: .relaxed)
            return nil
        }
        defer { taken.wrappingSubtract(1, ordering: .relaxed) }
        return try await write()
    }
}
#endif
