#if canImport(CLibSecret)
/// The signals waiting for a stream's next batch. Bounded: past ``capacity`` the signals are
/// dropped, and the stream learns the watched items anew instead
/// (``ChangeWatch/resynchronizeAfterDroppedSignals()``).
struct SignalQueue: Sendable {
    static let capacity = 10_000
    private(set) var signals: [SecretServiceSignal] = []
    private(set) var overflowed = false
    /// When the batch's first signal and its latest one arrived.
    private(set) var firstArrival: ContinuousClock.Instant?
    private(set) var lastArrival: ContinuousClock.Instant?

    var count: Int { signals.count }

    mutating func append(_ signal: SecretServiceSignal, at now: ContinuousClock.Instant = .now) {
        if firstArrival == nil { firstArrival = now }
        lastArrival = now
        guard signals.count < Self.capacity else {
            overflowed = true
            signals.removeAll()
            return
        }
        guard !overflowed else { return }
        signals.append(signal)
    }

    /// When the batch is gathered: 10 ms after its latest signal, and at most 30 ms after its
    /// first (under other applications' churn signals never pause, and a batch costs one
    /// search). Counted from the signals' arrival, so a batch that gathered while the previous
    /// one was handled waits no more. `nil` while the queue is empty.
    var gathered: ContinuousClock.Instant? {
        guard let firstArrival, let lastArrival else { return nil }
        return min(lastArrival + .milliseconds(10), firstArrival + .milliseconds(30))
    }

    /// The batch, and whether signals were dropped since the last one; empties the queue.
    mutating func take() -> (batch: [SecretServiceSignal], overflowed: Bool) {
        defer { self = SignalQueue() }
        return (signals, overflowed)
    }
}
#endif
