#if canImport(CLibSecret)
import CLibSecret
import Synchronization

/// A change the Secret Service announced: one of its signals, as the bus delivered it.
enum SecretServiceSignal: Sendable, Equatable {
    /// `Collection.ItemCreated`, `ItemDeleted`, `ItemChanged`: the item's path.
    case itemCreated(String)
    case itemDeleted(String)
    case itemChanged(String)
    /// A collection changed (its `Locked` property among others), was created or deleted.
    case collectionChanged
    /// `org.freedesktop.secrets` got a new owner (a daemon started) or lost it (`false`).
    case serviceOwnerChanged(hasOwner: Bool)
}

/// The Secret Service's change signals, for this process: what makes remembered item paths
/// safe to use (``generation``) and what feeds `changes(options:)` (``listen(_:)``).
///
/// The signals reach the bus connection only through match rules, which ``watch(_:_:)`` adds
/// once per connection. They are seen by the message filter on GDBus's I/O thread (see
/// `ReplyRouter`), which takes every incoming message in the order the bus delivered it. So a
/// signal the service sent before its reply to one of our calls is counted before that reply
/// is handed over: a reply can be checked against every change announced while it was in flight.
///
/// Only the real service speaks: any process on the bus can send a signal, and a signal sent
/// to our connection by name reaches the filter whatever the match rules say. So a Secret
/// Service signal counts only when it is broadcast by the current unique owner of
/// `org.freedesktop.secrets` (``ServiceOwners``), and `NameOwnerChanged` only when the bus
/// itself broadcast it.
enum SecretServiceSignals {
    /// Counts the signals seen so far. Anything learnt from the service stays true only while
    /// this has not moved.
    static let generation = Atomic<UInt64>(0)

    static var currentGeneration: UInt64 { generation.load(ordering: .acquiring) }

    /// Counts the signals that can change a collection's lock state (collection signals, a
    /// new owner), which ``LockStateMemory`` is checked against: item signals leave it alone,
    /// so other applications' busy writing does not void it.
    static let collectionGeneration = Atomic<UInt64>(0)

    static var currentCollectionGeneration: UInt64 { collectionGeneration.load(ordering: .acquiring) }

    /// Which signals a bus connection's match rules select; the raw value marks a connection
    /// that has them.
    enum Selection: String {
        /// The service's collection and item signals and its prompts' `Completed` (from
        /// whichever process owns the name now), and the name's changes of owner: what memories,
        /// streams and `runPrompt` need. Not `PropertiesChanged`: every provider announces a
        /// lock and an unlock with `Service.CollectionChanged` as well
        /// (`ProviderQuirks.signalsAnnounceLockChanges`), and GNOME Keyring and KWallet send a
        /// collection's whole `Items` list in one with every item created or deleted, which GDBus
        /// would parse for every write to the keyring by any application.
        case all = "dev.securestore.signal-rules"
        /// Only the name's changes of owner, which every reply is checked against (see
        /// `ServiceOwners`): enough for a process that remembers nothing between calls.
        case owner = "dev.securestore.owner-rule"

        var rules: [String] {
            let owner = "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.freedesktop.secrets'"
            guard self == .all else { return [owner] }
            return [
                "type='signal',sender='org.freedesktop.secrets',interface='org.freedesktop.Secret.Collection'",
                "type='signal',sender='org.freedesktop.secrets',interface='org.freedesktop.Secret.Service'",
                "type='signal',sender='org.freedesktop.secrets',interface='org.freedesktop.Secret.Prompt',member='Completed'",
                owner,
            ]
        }

        /// Whether `bus` has these rules already: `.all`'s include `.owner`'s.
        func isWatched(on bus: UnsafeMutablePointer<GObject>) -> Bool {
            g_object_get_data(bus, Self.all.rawValue) != nil || g_object_get_data(bus, rawValue) != nil
        }
    }

    /// Adds the match rules to `bus` unless they are there, waits for the bus to confirm them
    /// (from then on, every signal they select reaches the filter), and asks who owns the
    /// service now (the filter learns the answer, see `ServiceOwners`). `false` when the bus
    /// refused a rule or did not answer: then nothing may be remembered on this connection, and
    /// no signal counts. Blocks: call it on ``BlockingWorkers``.
    static func watch(_ bus: OpaquePointer, _ cancellation: GCancellation) -> Bool {
        watch(bus, cancellation, alongWith: []) { () throws(Never) in }.watching
    }

    /// ``watch(_:_:)`` for the signals `selection` names, and `others`, sent together, in one
    /// round trip (the bus takes one sender's calls in order, so the rules hold before the
    /// question is answered), hidden behind `meanwhile`'s: returns its result, whether the
    /// signals are watched, and the replies to `others` in their order. The filter must be on
    /// `bus` already.
    static func watch<T, E: Error>(
        _ bus: OpaquePointer, _ cancellation: GCancellation, selecting selection: Selection = .all, alongWith others: [BusCall],
        meanwhile: () throws(E) -> T
    ) throws(E) -> (result: T, watching: Bool, others: [Result<OpaquePointer, GLibError>]) {
        let object = UnsafeMutablePointer<GObject>(bus)
        // Two first watches at once both add the rules: the bus delivers a signal once however
        // many rules select it.
        if selection.isWatched(on: object) {
            let (result, replies) = try callTogether(others, on: bus, cancellation, meanwhile: meanwhile)
            return (result, true, replies)
        }
        let addRules = selection.rules.map { rule in
            BusCall(method: "AddMatch", argument: rule, replyType: "()")
        }
        let (result, replies) = try callTogether(addRules + [ServiceOwners.ownerQuestion] + others, on: bus, cancellation,
                                                 meanwhile: meanwhile)
        var watching = true
        for reply in replies.prefix(addRules.count) {
            switch reply {
            case .success(let body): g_variant_unref(body)
            case .failure: watching = false
            }
        }
        watching = ServiceOwners.answered(replies[addRules.count]) && watching
        if watching { g_object_set_data(object, selection.rawValue, UnsafeMutableRawPointer(bitPattern: 1)) }
        return (result, watching, Array(replies.dropFirst(addRules.count + 1)))
    }

    // MARK: - Listeners

    typealias Listener = @Sendable (SecretServiceSignal) -> Void

    private static let listeners = Locked<[UInt64: Listener]>([:])
    private static let nextListener = Atomic<UInt64>(0)

    /// Calls `listener` with every signal from now on, on GDBus's I/O thread (it must return
    /// quickly), and with this process's own changes (``announceOwnChange(_:)``) on the thread
    /// of the call that made them, until `stopListening` with the returned token.
    static func listen(_ listener: @escaping Listener) -> UInt64 {
        let token = nextListener.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[token] = listener }
        return token
    }

    /// Tells this process's listeners of a change this process made and saw succeed, as the
    /// service's own signal would: for changes a provider may leave unannounced (KeePassXC
    /// 2.7.4, under load, answers some `Item.SetSecret` without an `ItemChanged`). A stream that
    /// then also hears the service's signal in another batch reports the change twice; a lost
    /// report is worse.
    static func announceOwnChange(_ signal: SecretServiceSignal) {
        generation.add(1, ordering: .releasing)
        for listener in listeners.withLock({ Array($0.values) }) {
            listener(signal)
        }
    }

    /// How many listeners are registered (for tests: a cancelled stream leaves none behind).
    static var listenerCount: Int { listeners.withLock { $0.count } }

    static func stopListening(_ token: UInt64) {
        _ = listeners.withLock { $0.removeValue(forKey: token) }
    }

    // MARK: - From the filter

    /// Called by the message filter for every incoming signal on `bus`, in bus order.
    static func observe(_ message: OpaquePointer, on bus: OpaquePointer) {
        guard let sender = g_dbus_message_get_sender(message).map({ String(cString: $0) }) else { return }
        let fromBus = sender == ServiceOwners.busName
        guard fromBus || ServiceOwners.isOwner(sender, on: bus) else { return }
        let interface = g_dbus_message_get_interface(message).map { String(cString: $0) }
        if !fromBus, interface == "org.freedesktop.Secret.Prompt" {
            // A prompt's end is no change: it goes to whoever waits for it (`runPrompt`,
            // `awaitPrompt`). KeePassXC announces it to everyone; GNOME Keyring and KWallet send
            // it to the prompt's caller alone.
            if g_dbus_message_get_member(message).map({ String(cString: $0) }) == "Completed", let path = g_dbus_message_get_path(message) {
                PromptCompletions.received(at: String(cString: path), from: sender, body: g_dbus_message_get_body(message))
            }
            return
        }
        // Changes are announced to everyone, never to one connection.
        guard g_dbus_message_get_destination(message) == nil else { return }
        if fromBus { ServiceOwners.observe(message, on: bus) }
        // The bus speaks only for owners, the service only for itself.
        let aboutOwners = interface == ServiceOwners.busName
        guard aboutOwners == fromBus else { return }
        guard let signal = decode(message) else { return }
        switch signal {
        case .collectionChanged, .serviceOwnerChanged: collectionGeneration.add(1, ordering: .releasing)
        case .itemCreated, .itemDeleted, .itemChanged: break
        }
        generation.add(1, ordering: .releasing)
        for listener in listeners.withLock({ Array($0.values) }) {
            listener(signal)
        }
    }

    private static func decode(_ message: OpaquePointer) -> SecretServiceSignal? {
        guard let interface = g_dbus_message_get_interface(message).map({ String(cString: $0) }),
              let member = g_dbus_message_get_member(message).map({ String(cString: $0) }) else { return nil }
        let body = g_dbus_message_get_body(message)
        let path = g_dbus_message_get_path(message).map { String(cString: $0) } ?? ""
        switch (interface, member) {
        case ("org.freedesktop.Secret.Collection", _) where ProviderQuirks.isAliasEcho(signalPath: path):
            return nil
        case ("org.freedesktop.Secret.Collection", "ItemCreated"): return firstPath(body).map(SecretServiceSignal.itemCreated)
        case ("org.freedesktop.Secret.Collection", "ItemDeleted"): return firstPath(body).map(SecretServiceSignal.itemDeleted)
        case ("org.freedesktop.Secret.Collection", "ItemChanged"): return firstPath(body).map(SecretServiceSignal.itemChanged)
        case ("org.freedesktop.Secret.Service", _):
            return .collectionChanged
        case ("org.freedesktop.DBus", "NameOwnerChanged"):
            guard let body, String(cString: g_variant_get_type_string(body)) == "(sss)" else { return nil }
            let name = GLibValues.tupleString(body, at: 0), newOwner = GLibValues.tupleString(body, at: 2)
            return name == "org.freedesktop.secrets" ? .serviceOwnerChanged(hasOwner: !newOwner.isEmpty) : nil
        default:
            return nil
        }
    }

    private static func firstPath(_ body: OpaquePointer?) -> String? {
        guard let body, String(cString: g_variant_get_type_string(body)) == "(o)" else { return nil }
        return GLibValues.tupleString(body, at: 0)
    }

}
#endif
