/// A `changes(options:)` stream's side of its consumer: the stream's buffer is bounded
/// (``capacity``), so a consumer that stalls (`securestore watch | slow`) cannot make it grow
/// without limit. A change that finds the buffer full is dropped, and so is every later one,
/// while the delivery keeps what the consumer was told (the keys it knows exist, the lock and
/// the service's state). Once the consumer makes room, ``catchUp(keys:isLocked:serviceIsUp:)``
/// tells it the difference, as the stream does after its own signal queue overflowed: keys
/// added and removed meanwhile; a value overwritten meanwhile goes unreported.
struct ChangeDelivery: Sendable {
    static let capacity = 10_000

    private let output: AsyncStream<SecureStoreChange>.Continuation
    private var toldKeys: Set<String> = []
    private var toldLocked = false
    private var toldServiceIsUp = true
    /// A change was dropped: nothing more is sent until the consumer is caught up.
    private(set) var fellBehind = false

    init(_ output: AsyncStream<SecureStoreChange>.Continuation) {
        self.output = output
    }

    /// What the consumer is taken to know when the stream starts.
    mutating func startFrom(keys: Set<String>, isLocked: Bool) {
        toldKeys = keys
        toldLocked = isLocked
    }

    /// Sends `change`, unless the consumer fell behind (now, or before).
    mutating func report(_ change: SecureStoreChange) {
        guard !fellBehind else { return }
        guard case .enqueued = output.yield(change) else {
            fellBehind = true
            return
        }
        switch change {
        case .added(let key), .changed(let key): toldKeys.insert(key)
        case .removed(let key): toldKeys.remove(key)
        case .locked: toldLocked = true
        case .unlocked: toldLocked = false
        case .serviceUnavailable: toldServiceIsUp = false
        case .serviceAvailable: toldServiceIsUp = true
        }
    }

    /// For a consumer that fell behind: sends what differs between what it was told and the
    /// watched items now. Stays behind (and is asked again later) while the buffer is full.
    mutating func catchUp(keys: Set<String>, isLocked: Bool, serviceIsUp: Bool) {
        guard fellBehind else { return }
        fellBehind = false
        var missed: [SecureStoreChange] = []
        if serviceIsUp != toldServiceIsUp { missed.append(serviceIsUp ? .serviceAvailable : .serviceUnavailable) }
        if isLocked != toldLocked { missed.append(isLocked ? .locked : .unlocked) }
        missed += toldKeys.subtracting(keys).sorted().map { .removed(key: $0) }
        missed += keys.subtracting(toldKeys).sorted().map { .added(key: $0) }
        for change in missed {
            report(change)
            if fellBehind { return }
        }
    }
}
