#if canImport(CLibSecret)
import CLibSecret
#endif
import Foundation

/// `impostor`: takes `org.freedesktop.secrets` and answers every call with a reply of the wrong
/// shape, as a broken or hostile service might.
enum Impostor {
    static func run() -> Never {
        #if canImport(CLibSecret)
        var error: UnsafeMutablePointer<GError>?
        guard let bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nil, &error) else { say("no bus"); exit(1) }
        _ = g_dbus_connection_add_filter(bus, answerEveryCallWithAString, nil, nil)
        var arguments = [g_variant_new_string("org.freedesktop.secrets"), g_variant_new_uint32(0)]
        let reply = g_dbus_connection_call_sync(
            bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
            g_variant_new_tuple(&arguments, 2), nil, G_DBUS_CALL_FLAGS_NONE, -1, nil, &error)
        guard reply != nil else { say("RequestName failed"); exit(1) }
        say("owned")
        while true { sleep(60) }
        #else
        say("impostor needs GIO"); exit(2)
        #endif
    }
}

#if canImport(CLibSecret)
/// The impostor's message filter. It runs on GDBus's own thread (no main loop is needed), so
/// it is a nonisolated function, not a closure of the main-actor top-level code.
nonisolated func answerEveryCallWithAString(
    _ connection: OpaquePointer?, _ message: OpaquePointer?, _ incoming: gboolean, _: UnsafeMutableRawPointer?
) -> OpaquePointer? {
    guard incoming != 0, let message, g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL else { return message }
    let reply = g_dbus_message_new_method_reply(message)
    var body = [g_variant_new_string("not what you asked for")]
    g_dbus_message_set_body(reply, g_variant_new_tuple(&body, 1))
    g_dbus_connection_send_message(connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, nil, nil)
    g_object_unref(UnsafeMutableRawPointer(reply))
    g_object_unref(UnsafeMutableRawPointer(message))
    return nil
}
#endif
