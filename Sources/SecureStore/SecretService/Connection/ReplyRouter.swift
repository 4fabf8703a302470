#if canImport(CLibSecret)
import CLibSecret

/// Routes the replies of calls sent without waiting to their callers. A message filter on the
/// bus connection sees every message on GDBus's I/O thread; it takes the replies to these calls
/// (by connection and serial) and lets everything else through, except replies to the service's
/// calls from anyone but the service (see ``ServiceOwners``).
///
/// One router serves the whole process, and each bus connection gets its filter once, for the
/// connection's life. A filter removed from a connection is freed later, on the main context of
/// the thread that added it, which an app need not ever iterate: a router per Secret Service
/// connection leaked once per daemon restart. A daemon restart keeps the bus connection, so it
/// installs nothing new; a new bus connection gets one filter, which GLib frees with it.
final class ReplyRouter: Sendable {
    /// Receives a reply's body (borrowed for the duration) or its error, on GDBus's I/O thread.
    typealias Handler = @Sendable (Result<OpaquePointer?, GLibError>) -> Void

    /// A call awaiting its reply: its bus connection (as an address) and its serial there.
    struct Call: Hashable, Sendable {
        var bus: UInt
        var serial: guint32
    }

    static let shared = ReplyRouter()

    private let handlers = Locked<[Call: Handler]>([:])
    /// Whether `install(on:)` added the filter to a connection, kept on the connection itself.
    private static let installedKey = "dev.securestore.reply-filter"
    private let installing = Locked(())

    /// Adds the filter to `bus` unless it has it already, and has everything kept about `bus`
    /// forgotten when GLib finalizes it.
    func install(on bus: OpaquePointer) {
        let object = UnsafeMutablePointer<GObject>(bus)
        installing.withLock { _ in
            guard g_object_get_data(object, Self.installedKey) == nil else { return }
            ServiceOwners.track(bus)
            _ = g_dbus_connection_add_filter(bus, Self.filter, nil, nil)
            // The data's destroy notify runs as the connection is finalized, before its memory
            // can hold another connection. The data is the connection's address, not a reference.
            g_object_set_data_full(object, Self.installedKey, UnsafeMutableRawPointer(bus), Self.forgetConnection)
        }
    }

    private static let forgetConnection: GDestroyNotify = { bus in
        let address = UInt(bitPattern: bus)
        ServiceOwners.forget(connectionAt: address)
        shared.forget(connectionAt: address)
    }

    /// Fails the calls still awaiting a reply on the connection at `address`, which is gone.
    private func forget(connectionAt address: UInt) {
        let orphans = handlers.withLock { handlers in
            let calls = handlers.filter { $0.key.bus == address }
            calls.keys.forEach { handlers.removeValue(forKey: $0) }
            return calls.values
        }
        for handler in orphans {
            handler(.failure(GLibError(domain: GLibError.io, code: Int32(bitPattern: G_IO_ERROR_CLOSED.rawValue),
                                       message: "The bus connection was closed")))
        }
    }

    /// How many calls on the connection at `address` await their reply.
    func pendingCalls(onConnectionAt address: UInt) -> Int {
        handlers.withLock { $0.keys.filter { $0.bus == address }.count }
    }

    /// Queues `messages` and registers `handler(index)` for the reply to `messages[index]`. All
    /// under one lock, so that no reply can reach the filter before its handler is there.
    /// Returns the calls; if one cannot be sent, those already sent are forgotten.
    func send(_ messages: [OpaquePointer], on bus: OpaquePointer, handler: (Int) -> Handler) throws(GLibError) -> [Call] {
        let address = UInt(bitPattern: UnsafeRawPointer(bus))
        return try handlers.withLock { handlers throws(GLibError) in
            var calls: [Call] = []
            calls.reserveCapacity(messages.count)
            for (index, message) in messages.enumerated() {
                var serial: guint32 = 0
                do throws(GLibError) {
                    _ = try withGError { g_dbus_connection_send_message(bus, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, &serial, $0) }
                } catch {
                    calls.forEach { handlers.removeValue(forKey: $0) }
                    throw error
                }
                let call = Call(bus: address, serial: serial)
                handlers[call] = handler(index)
                calls.append(call)
            }
            return calls
        }
    }

    /// Forgets `calls` (timed out or cancelled).
    func remove(_ calls: [Call]) {
        handlers.withLock { handlers in calls.forEach { handlers.removeValue(forKey: $0) } }
    }

    private static let filter: GDBusMessageFilterFunction = { bus, message, incoming, _ in
        guard let message, let bus else { return message }
        let type = g_dbus_message_get_message_type(message)
        guard incoming != 0 else {
            // Every call to the service, ours and libsecret's, so its reply's sender can be checked.
            if type == G_DBUS_MESSAGE_TYPE_METHOD_CALL { ServiceOwners.sending(message, on: bus) }
            return message
        }
        if type == G_DBUS_MESSAGE_TYPE_SIGNAL {
            // Counted here, in bus order, before any later reply is handed over.
            SecretServiceSignals.observe(message, on: bus)
            return message
        }
        guard type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR else { return message }
        guard ServiceOwners.admits(reply: message, on: bus) else {
            // A reply forged by another peer: dropped, so the service's own answers the call.
            g_object_unref(UnsafeMutableRawPointer(message))
            return nil
        }
        let call = Call(bus: UInt(bitPattern: UnsafeRawPointer(bus)), serial: g_dbus_message_get_reply_serial(message))
        guard let handler = shared.handlers.withLock({ $0.removeValue(forKey: call) }) else { return message }
        // Ours: answer the caller and drop the message.
        defer { g_object_unref(UnsafeMutableRawPointer(message)) }
        var error: UnsafeMutablePointer<GError>?
        if type == G_DBUS_MESSAGE_TYPE_ERROR, g_dbus_message_to_gerror(message, &error) != 0, let error {
            defer { g_error_free(error) }
            handler(.failure(GLibError(error)))
        } else {
            handler(.success(g_dbus_message_get_body(message)))
        }
        return nil
    }
}
#endif
