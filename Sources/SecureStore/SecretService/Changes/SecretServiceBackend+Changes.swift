#if canImport(CLibSecret)
import Synchronization
extension SecretServiceBackend {
    /// The changes to the items `options` select, told from the Secret Service's signals
    /// (`ItemCreated`, `ItemDeleted`, `ItemChanged`, the collection's properties, the name's
    /// owner). A signal names an item by its path only, so the stream keeps the path and key of
    /// every item it watches (never a value): a deleted item is reported with its key, and an
    /// item whose attributes were edited out of the service as removed.
    ///
    /// Returns once the bus delivers the signals and the watched items are known, so every
    /// change after that is reported. With no service running, the stream starts with
    /// ``SecureStoreChange/serviceUnavailable`` and reports its start.
    public func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        try Self.checkSessionBus()
        // Signals queue up here and are handled in batches, each with one search of the
        // watched service (see `ChangeWatch.handle`).
        let queued = Mutex(SignalQueue())
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let listener = SecretServiceSignals.listen { signal in
            queued.withLock { $0.append(signal) }
            wake.yield()
        }
        // Held while the stream runs: the signals come only while the bus connection lives,
        // and nothing else may hold it (no connection to a service that is not running).
        let signalsBus: HeldBusConnection
        do {
            let held = try await BlockingWorkers.shared.run(timeout: timeout) { try SecretServiceConnection.watchSignals($0) }
            guard let held else { throw SecureStoreError(.serviceUnavailable, "The session bus refused to deliver the Secret Service's signals.") }
            signalsBus = held
        } catch {
            SecretServiceSignals.stopListening(listener)
            throw Self.secureStoreError(from: error)
        }
        let (changes, output) = AsyncStream.makeStream(of: SecureStoreChange.self, bufferingPolicy: .bufferingOldest(ChangeDelivery.capacity))
        var watch = ChangeWatch(backend: self, options: options, delivery: ChangeDelivery(output))
        await watch.start()
        let started = watch
        let task = Task {
            var watch = started
            // When the catch-up the stream owes is due, and the task that wakes it then.
            var catchUpDue: ContinuousClock.Instant?
            var retry: Task<Void, Never>?
            defer {
                retry?.cancel()
                withExtendedLifetime(signalsBus) { SecretServiceSignals.stopListening(listener) }
            }
            for await _ in wakes {
                await gatherBurst(queued)
                let (batch, overflowed) = queued.withLock { $0.take() }
                if overflowed {
                    await watch.resynchronizeAfterDroppedSignals()
                } else {
                    await watch.handle(batch)
                    if watch.owesCatchUp, let due = catchUpDue, ContinuousClock.now >= due {
                        await watch.resynchronize()
                    }
                }
                watch.tellWhatTheConsumerMissed()
                // Signals the service could not answer for: a later batch that names their
                // paths reports them (KeePassXC announces a write many times over); the
                // catch-up, a little later, reports the rest, and is asked again until answered.
                // A consumer that fell behind is told what it missed as soon as it makes room.
                if !watch.owesCatchUp && !watch.delivery.fellBehind {
                    catchUpDue = nil
                    retry?.cancel()
                    retry = nil
                } else if catchUpDue.map({ ContinuousClock.now >= $0 }) ?? true {
                    let due = ContinuousClock.now + ChangeWatch.catchUpRetryDelay
                    catchUpDue = due
                    retry?.cancel()
                    retry = Task {
                        try? await Task.sleep(until: due)
                        if !Task.isCancelled { wake.yield() }
                    }
                }
            }
        }
        output.onTermination = { _ in
            task.cancel()
            wake.finish()
        }
        return changes
    }
}

/// Waits until the queued batch is gathered (``SignalQueue/gathered``). Providers announce one
/// write in a burst: KWallet a new item as changed then created, KeePassXC an overwrite in 6
/// `ItemChanged` (12 with the alias's copies) within a millisecond, a new item in 21. Gathered,
/// a burst is handled, and reported, as one.
/// The bursts themselves stayed tight under load (`dbus-monitor`); what pauses is GDBus's thread
/// in this process, between two messages of a burst, for as long as the machine makes it wait,
/// so no wait rules a second report out. A second report is the price; a lost one never is.
private func gatherBurst(_ queued: borrowing Mutex<SignalQueue>) async {
    while let gathered = queued.withLock({ $0.gathered }), gathered > .now, !Task.isCancelled {
        try? await Task.sleep(until: gathered, clock: .continuous)
    }
}
#endif
