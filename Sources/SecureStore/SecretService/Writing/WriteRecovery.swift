#if canImport(CLibSecret)
import Logging
import Synchronization

/// A write on a provider whose writes are read back (`ProviderQuirks.writesNeedReadBack`,
/// KWallet): what each synchronizable state of the key held before the first attempt, and
/// whether a read-back has failed since. When no attempt verifies, the item holds bytes nobody
/// wrote; ``SecretServiceBackend/undo(_:forKey:options:)`` puts the previous value back, or
/// removes the item, before the write fails: a wrong secret is never left behind.
final class WriteRecovery: Sendable {
    struct Previous: Sendable {
        /// `nil`: the key had no item in this state.
        var value: [UInt8]?
        var accessible: KeychainAccessible
    }

    private struct State {
        var previous: [Bool: Previous] = [:]
        var isUnverified = false
    }

    private let state = Mutex(State())

    /// Records what the state held, unless an earlier attempt did (a later one may read its own
    /// garbage).
    func rememberOnce(_ isSynchronizable: Bool, _ read: () throws -> Previous) rethrows {
        guard state.withLock({ $0.previous[isSynchronizable] == nil }) else { return }
        let previous = try read()
        state.withLock { state in
            if state.previous[isSynchronizable] == nil { state.previous[isSynchronizable] = previous }
        }
    }

    func markUnverified() { state.withLock { $0.isUnverified = true } }

    var isUnverified: Bool { state.withLock { $0.isUnverified } }

    var previous: [Bool: Previous] { state.withLock { $0.previous } }

    deinit {
        state.withLock { state in
            for key in state.previous.keys where state.previous[key]?.value != nil { wipe(&state.previous[key]!.value!) }
        }
    }
}

extension SecretServiceBackend {
    /// After a write that no attempt could verify (a read-back that came back wrong): writes
    /// each state's previous value back (itself verified), or removes the key's items in a
    /// state that had none or whose value read back wrong again. A put-back that timed out or
    /// was cancelled removes nothing: it may well have stored the previous value, and a removal
    /// would lose it. Returns the error the write fails with, saying what was done.
    func undo(_ recovery: WriteRecovery, forKey key: String, options: SecureStoreOptions) async -> SecureStoreError {
        var outcomes: [String] = []
        for (isSynchronizable, previous) in recovery.previous.sorted(by: { !$0.key && $1.key }) {
            var stateOptions = options
            stateOptions.synchronizable = isSynchronizable ? .yes : .no
            stateOptions.keychainAccessible = previous.accessible
            if let value = previous.value {
                let kind: ValueKind = String(validating: value, as: UTF8.self) == nil ? .bytes : .text
                do {
                    try await writeVerified(value, contentType: ItemSchema.contentType(of: value, kind: kind), forKey: key, options: stateOptions)
                    outcomes.append("the previous value was put back")
                    continue
                } catch where error is CancellationError || (error as? SecureStoreError)?.code == .timeout {
                    outcomes.append("putting the previous value back \(error is CancellationError ? "was cancelled" : "timed out"), so the item was left as it is (the previous value, or bytes nobody wrote)")
                    continue
                } catch {
                    outcomes.append("its previous value could not be put back")
                }
            }
            do {
                try await deleteItems(forKey: key, options: stateOptions)
                outcomes.append(previous.value == nil ? "the item it made was removed" : "so the item was removed")
            } catch {
                outcomes.append("the item could not be removed either (the item may hold bytes nobody wrote)")
            }
        }
        logger.debug("No attempt of the write read back what was written; undone", metadata: [
            LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.undo: "\(outcomes.joined(separator: ", "))",
        ])
        return SecureStoreError(
            .keyChain, "The Secret Service stored other bytes than were written (its transfer session's key exchange failed on every attempt); \(outcomes.joined(separator: ", ")).")
    }
}
#endif
