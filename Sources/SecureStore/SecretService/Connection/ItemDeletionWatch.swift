#if canImport(CLibSecret)
/// Whether the service announced that one item was deleted (`Collection.ItemDeleted`, from the
/// service's current owner: see `SecretServiceSignals.observe`), heard from the watch's start
/// until `stop()`. A service that deletes before it completes the delete's prompt (KeePassXC)
/// announces the delete before the prompt's `Completed`, and the filter hands both over in bus
/// order: so once the prompt has completed, a delete not heard was not announced.
final class ItemDeletionWatch: Sendable {
    private let heard: Locked<Bool>
    private let token: UInt64

    init(of item: String) {
        let heard = Locked(false)
        self.heard = heard
        token = SecretServiceSignals.listen { signal in
            if signal == .itemDeleted(item) { heard.withLock { $0 = true } }
        }
    }

    var wasHeard: Bool { heard.withLock { $0 } }

    func stop() { SecretServiceSignals.stopListening(token) }
}
#endif
