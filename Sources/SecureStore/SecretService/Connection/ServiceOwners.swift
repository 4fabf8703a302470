#if canImport(CLibSecret)
import CLibSecret

/// Who speaks for the Secret Service on each bus connection: the unique name that owns
/// `org.freedesktop.secrets`, as the bus itself last said, and which replies may answer the
/// calls sent to it.
///
/// Any process on the session bus can send our connection a signal or a method reply: the bus
/// delivers a unicast message whatever our match rules say, and on a session bus whose policy
/// lets any peer eavesdrop it even delivers unrequested replies, whose serial an eavesdropper
/// can see. GDBus matches replies by serial alone. So the message filter (``ReplyRouter``) asks
/// this type about every reply to a call that went to the service, on any thread's behalf
/// (libsecret's calls too), and drops one from anyone but the service or the bus before GDBus
/// sees it; the real reply still comes. The owner itself is learnt in the same filter, in bus
/// order, from the bus alone: its `NameOwnerChanged` and its answers to `GetNameOwner`.
///
/// A connection is followed from ``track(_:)`` (when the filter is installed) until GLib
/// finalizes it (``forget(connectionAt:)``): GLib drops the shared session bus connection once
/// nobody holds it, and the next one may be allocated at the same address, where another
/// connection's serials would make it drop its own replies.
enum ServiceOwners {
    static let serviceName = "org.freedesktop.secrets"
    static let busName = "org.freedesktop.DBus"

    private struct Connection {
        /// The service's unique name; `nil` while nobody owns it (or before anyone asked).
        var owner: String?
        /// The calls in flight to the service by serial, with the unique name they went to.
        var calls: [UInt32: String?] = [:]
        /// The questions in flight to the bus about who owns the service, by serial.
        var ownerQuestions: Set<UInt32> = []
        /// Every other call in flight to the bus itself, by serial: only the bus answers them
        /// (`GetConnectionUnixProcessID` and `GetNameOwner` of other names tell the provider).
        var busCalls: Set<UInt32> = []
        /// The unique names that have owned the service on this connection, newest last: calls
        /// go to the owner a connection was opened with, which may have lost the name since.
        var owners: [String] = []

        mutating func learn(owner: String?) {
            self.owner = owner
            guard let owner, owners.last != owner else { return }
            owners.removeAll { $0 == owner }
            owners.append(owner)
            if owners.count > ServiceOwners.ownersKept { owners.removeFirst() }
        }
    }

    /// How many of the service's past owners a connection keeps, for the calls still addressed
    /// to them.
    static let ownersKept = 16

    /// At most this many calls are remembered per connection: the oldest are forgotten first
    /// (a call abandoned by its caller may never be answered).
    static let callCapacity = 4096

    private static let connections = Locked<[UInt: Connection]>([:])

    private static func key(_ bus: OpaquePointer) -> UInt { UInt(bitPattern: UnsafeRawPointer(bus)) }

    /// Starts following `bus`, knowing nothing yet.
    static func track(_ bus: OpaquePointer) {
        connections.withLock { $0[key(bus)] = Connection() }
    }

    /// Forgets the connection at `address`, which GLib is finalizing.
    static func forget(connectionAt address: UInt) {
        _ = connections.withLock { $0.removeValue(forKey: address) }
    }

    /// Whether the connection at `address` is followed.
    static func isTracking(connectionAt address: UInt) -> Bool {
        connections.withLock { $0[address] != nil }
    }

    /// The service's current owner on `bus`, if known.
    static func owner(on bus: OpaquePointer) -> String? {
        connections.withLock { $0[key(bus)]?.owner }
    }

    static func isOwner(_ sender: String, on bus: OpaquePointer) -> Bool {
        owner(on: bus) == sender
    }

    // MARK: - From the message filter

    /// A signal the bus itself sent: follows the service's changes of owner.
    static func observe(_ message: OpaquePointer, on bus: OpaquePointer) {
        guard g_dbus_message_get_member(message).map({ String(cString: $0) }) == "NameOwnerChanged",
              let body = g_dbus_message_get_body(message), String(cString: g_variant_get_type_string(body)) == "(sss)",
              GLibValues.tupleString(body, at: 0) == serviceName else { return }
        let newOwner = GLibValues.tupleString(body, at: 2)
        connections.withLock { connections in
            connections[key(bus)]?.learn(owner: newOwner.isEmpty ? nil : newOwner)
        }
    }

    /// An outgoing method call: remembered when it goes to the service, by its well-known name
    /// or the unique name of one of its owners, and when it goes to the bus itself (ours,
    /// libsecret's or the app's: only the bus answers those), so that a question about the
    /// service's owner is learnt in bus order.
    static func sending(_ message: OpaquePointer, on bus: OpaquePointer) {
        guard g_dbus_message_get_flags(message).rawValue & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED.rawValue == 0,
              let destination = g_dbus_message_get_destination(message).map({ String(cString: $0) }) else { return }
        let serial = g_dbus_message_get_serial(message)
        if destination == busName {
            let isOwnerQuestion = isOwnerQuestion(message)
            connections.withLock { connections in
                guard var connection = connections[key(bus)] else { return }
                if isOwnerQuestion {
                    if connection.ownerQuestions.count >= callCapacity { connection.ownerQuestions.removeAll() }
                    connection.ownerQuestions.insert(serial)
                } else {
                    if connection.busCalls.count >= callCapacity { connection.busCalls.removeAll() }
                    connection.busCalls.insert(serial)
                }
                connections[key(bus)] = connection
            }
            return
        }
        connections.withLock { connections in
            guard var connection = connections[key(bus)],
                  destination == serviceName || (destination.hasPrefix(":") && connection.owners.contains(destination)) else { return }
            if connection.calls.count >= callCapacity {
                for old in connection.calls.keys.sorted().prefix(callCapacity / 4) { connection.calls[old] = nil }
            }
            connection.calls[serial] = .some(destination == serviceName ? connection.owner : destination)
            connections[key(bus)] = connection
        }
    }

    /// Whether an incoming reply may go on: `false` for a reply to a call to the service that
    /// comes from another sender than the one the call went to, the service's owner now, or the
    /// bus (which answers for a service that is gone), and for an answer to any call to the bus
    /// that does not come from the bus. The bus's answer is learnt here: every reply
    /// and signal passes the filter in bus order, so the answer is the newest word on the owner
    /// when it arrives, and later changes come as `NameOwnerChanged` after it.
    ///
    /// A reply without a sender is the bus's: the bus stamps every message it routes, so only
    /// the other end of the socket sends one, the bus or a proxy standing in for it (in a
    /// Flatpak sandbox xdg-dbus-proxy answers so for the names the app may not see).
    static func admits(reply message: OpaquePointer, on bus: OpaquePointer) -> Bool {
        let serial = g_dbus_message_get_reply_serial(message)
        let sender = g_dbus_message_get_sender(message).map { String(cString: $0) } ?? busName
        return connections.withLock { connections in
            guard var connection = connections[key(bus)] else { return true }
            if connection.ownerQuestions.contains(serial) {
                guard sender == busName else { return false }
                connection.ownerQuestions.remove(serial)
                if let answer = ownerAnswer(message) { connection.learn(owner: answer) }
                connections[key(bus)] = connection
                return true
            }
            if connection.busCalls.contains(serial) {
                guard sender == busName else { return false }
                connection.busCalls.remove(serial)
                connections[key(bus)] = connection
                return true
            }
            guard let call = connection.calls[serial] else { return true }
            guard sender == busName || sender == call || sender == connection.owner else { return false }
            connection.calls[serial] = nil
            connections[key(bus)] = connection
            return true
        }
    }

    /// Whether `message` is `GetNameOwner` of the service.
    private static func isOwnerQuestion(_ message: OpaquePointer) -> Bool {
        guard g_dbus_message_get_member(message).map({ String(cString: $0) }) == "GetNameOwner",
              let body = g_dbus_message_get_body(message), String(cString: g_variant_get_type_string(body)) == "(s)" else { return false }
        return GLibValues.tupleString(body, at: 0) == serviceName
    }

    /// The owner a reply to `GetNameOwner` gives: a unique name, or `.some(nil)` for the bus's
    /// `NameHasNoOwner`; `nil` for any other reply, which says nothing.
    private static func ownerAnswer(_ message: OpaquePointer) -> String?? {
        switch g_dbus_message_get_message_type(message) {
        case G_DBUS_MESSAGE_TYPE_METHOD_RETURN:
            guard let body = g_dbus_message_get_body(message), String(cString: g_variant_get_type_string(body)) == "(s)" else { return nil }
            let owner = GLibValues.tupleString(body, at: 0)
            return owner.hasPrefix(":") ? .some(owner) : nil
        case G_DBUS_MESSAGE_TYPE_ERROR:
            guard g_dbus_message_get_error_name(message).map({ String(cString: $0) }) == "org.freedesktop.DBus.Error.NameHasNoOwner" else { return nil }
            return .some(nil)
        default:
            return nil
        }
    }

    // MARK: - Asking the bus

    /// The call that asks the bus who owns the service now; the filter learns its answer (see
    /// ``admits(reply:on:)``). Sent after the `NameOwnerChanged` match rule, so that every
    /// later change reaches the filter too.
    static var ownerQuestion: BusCall {
        BusCall(method: "GetNameOwner", argument: serviceName, replyType: "(s)")
    }

    /// Whether the bus answered ``ownerQuestion``: with an owner, or with "no owner".
    static func answered(_ reply: Result<OpaquePointer, GLibError>) -> Bool {
        switch reply {
        case .success(let body):
            g_variant_unref(body)
            return true
        case .failure(let error):
            return error.remoteName == "org.freedesktop.DBus.Error.NameHasNoOwner"
        }
    }

}
#endif
