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
/// sees it; the real reply still comes.
enum ServiceOwners {
    static let serviceName = "org.freedesktop.secrets"
    static let busName = "org.freedesktop.DBus"

    private struct Connection {
        /// The service's unique name; `nil` while nobody owns it (or before ``learn(on:_:)``).
        var owner: String?
        /// How many owner changes the bus reported: an answer to `GetNameOwner` is kept only if
        /// none came in while it was on its way (otherwise the change is newer, or the same).
        var changes: UInt64 = 0
        /// The calls in flight to the service by serial, with the unique name they went to.
        var calls: [UInt32: String?] = [:]
    }

    /// At most this many calls are remembered per connection: the oldest are forgotten first
    /// (a call abandoned by its caller may never be answered).
    static let callCapacity = 4096

    private static let connections = Locked<[UInt: Connection]>([:])

    private static func key(_ bus: OpaquePointer) -> UInt { UInt(bitPattern: UnsafeRawPointer(bus)) }

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
              string(body, at: 0) == serviceName else { return }
        let newOwner = string(body, at: 2)
        connections.withLock { connections in
            connections[key(bus), default: Connection()].owner = newOwner.isEmpty ? nil : newOwner
            connections[key(bus), default: Connection()].changes += 1
        }
    }

    /// An outgoing method call: remembered when it goes to the service, by its well-known name
    /// or its owner's unique name.
    static func sending(_ message: OpaquePointer, on bus: OpaquePointer) {
        guard g_dbus_message_get_flags(message).rawValue & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED.rawValue == 0,
              let destination = g_dbus_message_get_destination(message).map({ String(cString: $0) }) else { return }
        let serial = g_dbus_message_get_serial(message)
        connections.withLock { connections in
            var connection = connections[key(bus), default: Connection()]
            guard destination == serviceName || (destination.hasPrefix(":") && destination == connection.owner) else { return }
            if connection.calls.count >= callCapacity {
                for old in connection.calls.keys.sorted().prefix(callCapacity / 4) { connection.calls[old] = nil }
            }
            connection.calls[serial] = .some(destination == serviceName ? connection.owner : destination)
            connections[key(bus)] = connection
        }
    }

    /// Whether an incoming reply may go on: `false` for a reply to a call to the service that
    /// comes from another sender than the one the call went to, the service's owner now, or the
    /// bus (which answers for a service that is gone).
    static func admits(reply message: OpaquePointer, on bus: OpaquePointer) -> Bool {
        let serial = g_dbus_message_get_reply_serial(message)
        let sender = g_dbus_message_get_sender(message).map { String(cString: $0) }
        return connections.withLock { connections in
            guard var connection = connections[key(bus)], let call = connection.calls[serial] else { return true }
            guard sender == busName || (sender != nil && (sender == call || sender == connection.owner)) else { return false }
            connection.calls[serial] = nil
            connections[key(bus)] = connection
            return true
        }
    }

    // MARK: - Asking the bus

    /// Asks the bus who owns the service now, after the `NameOwnerChanged` match rule is in
    /// place (so that every later change reaches the filter). `false` when the bus did not say.
    static func learn(on bus: OpaquePointer, _ cancellation: GCancellation) -> Bool {
        let changesBefore = connections.withLock { $0[key(bus)]?.changes ?? 0 }
        cancellation.beginStep()
        let owner: String?
        do {
            let reply = try withGError {
                g_dbus_connection_call_sync(
                    bus, busName, "/org/freedesktop/DBus", busName, "GetNameOwner", tuple([g_variant_new_string(serviceName)]),
                    nil, G_DBUS_CALL_FLAGS_NONE, G_MAXINT, cancellation.cancellable, $0)
            }
            guard let reply else { return false }
            defer { g_variant_unref(reply) }
            guard String(cString: g_variant_get_type_string(reply)) == "(s)" else { return false }
            owner = string(reply, at: 0)
        } catch where error.remoteName == "org.freedesktop.DBus.Error.NameHasNoOwner" {
            owner = nil
        } catch {
            return false
        }
        connections.withLock { connections in
            var connection = connections[key(bus), default: Connection()]
            if connection.changes == changesBefore { connection.owner = owner }
            connections[key(bus)] = connection
        }
        return true
    }

    private static func string(_ tuple: OpaquePointer, at index: Int) -> String {
        let child = g_variant_get_child_value(tuple, gsize(index))
        defer { g_variant_unref(child) }
        return String(cString: g_variant_get_string(child, nil))
    }
}
#endif
