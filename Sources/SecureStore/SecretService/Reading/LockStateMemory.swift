#if canImport(CLibSecret)
import Synchronization

/// Whether the default collection is locked, as last read, for as long as no collection signal
/// has arrived since (``SecretServiceSignals/collectionGeneration``). With it, a search that
/// finds nothing in a collection known to be unlocked is the whole miss: one round trip.
///
/// A lock, an unlock, a new default collection and a new daemon are each announced by a
/// collection signal (`CollectionChanged`) or `NameOwnerChanged` before
/// the service answers the next call, and the bus filter counts a signal before it hands over
/// any reply that came after it. So a state recalled after a reply was true when the service
/// sent that reply; any doubt costs one `Locked` read, never a wrong answer. KeePassXC's lock
/// after inactivity can hide its items before its signal, so a remembered item found gone
/// voids the state too (`forget()`).
final class LockStateMemory: Sendable {
    private struct Known {
        var isLocked: Bool
        var generation: UInt64
    }

    private let known = Locked<Known?>(nil)

    /// How many times, in this process, a state was recalled rather than read.
    static let recalls = Atomic(0)

    /// The state last read, if no collection signal has arrived since.
    func recall() -> Bool? {
        let generation = SecretServiceSignals.currentCollectionGeneration
        let state = known.withLock { known -> Bool? in
            guard let state = known, state.generation == generation else {
                known = nil
                return nil
            }
            return state.isLocked
        }
        if state != nil { Self.recalls.add(1, ordering: .relaxed) }
        return state
    }

    /// Forgets the state, so that the next call reads it: for when an item a read remembered is
    /// gone or locked, which may be a lock the service has not announced yet (KeePassXC's lock
    /// after inactivity hides its items before its signal).
    func forget() {
        known.withLock { $0 = nil }
    }

    /// Remembers `isLocked`, read by a call started at `generation`, unless a collection signal
    /// has arrived since.
    func remember(_ isLocked: Bool, readAt generation: UInt64) {
        guard SecretServiceSignals.currentCollectionGeneration == generation else { return }
        known.withLock { $0 = Known(isLocked: isLocked, generation: generation) }
    }
}
#endif
