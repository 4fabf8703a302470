#if canImport(CLibSecret)
import CLibSecret
import Dispatch

/// The sandbox keyring's first libsecret call, the one that makes libsecret ask the Secret
/// portal for the keyring's key, made so that the portal's answer is not lost.
///
/// libsecret 0.20.5 (Debian 12's) sends `RetrieveSecret` without a `handle_token`, so it learns
/// the request's path from the reply and only then subscribes to the request's `Response`
/// signal; and GLib (since the fix for CVE-2024-34397) hands a signal from a well-known name to a
/// subscriber only once it has looked up the name's owner, one more round trip. A portal that
/// answers at once gets its `Response` to GDBus's I/O thread before either; no one is
/// subscribed, GDBus drops it, and libsecret waits for ever. libsecret 0.21 subscribes before
/// it asks.
///
/// So, in this process:
/// - a subscription of our own to the portal's signals makes GLib look up the portal's owner
///   once, before the first request; libsecret's subscriptions share that lookup;
/// - the request runs on a main context of its own, and a message filter holds each portal
///   `Response` on GDBus's I/O thread until every such context has dispatched what was queued
///   on it: the reply, whose callback is where libsecret subscribes.
///
/// The first is what mends it; the second guards the loss where the reply's callback is slow to
/// run (a busy machine), which the first cannot. The filter also notes when an answer came
/// (`latestAnswerHeard`), so that the warm-up asks again only for an answer that was lost, never
/// for one that is slow.
enum PortalKeyRequest {
    /// Makes libsecret's first call (a search that finds nothing, so reads no secret) and
    /// waits for it on this thread, which it must not be called from twice at once.
    static func makeFirstCall() throws(GLibError) {
        try prepareBus()
        let context = MainContext()
        g_main_context_push_thread_default(context.pointer)
        defer { g_main_context_pop_thread_default(context.pointer) }
        requesting.withLock { $0[context.address] = context }
        defer { _ = requesting.withLock { $0.removeValue(forKey: context.address) } }

        var outcome: Result<Void, GLibError>?
        // No application ID is empty (validated), so this finds nothing.
        LibSecretPassword.startSearch([SecretServiceBackend.Attribute.application: ""]) { outcome = $0 }
        runLibsecretsFileBackend(on: context) { outcome != nil }
        try outcome!.get()
    }

    /// Iterates `context` until `done`. A function of its own because libsecret 0.20.5's file
    /// backend leaves a few strings in GIO from the work done in here (28 bytes a process, the
    /// leak seen under `secret_password_searchv_sync` before): Tests/lsan-suppressions.txt names
    /// this frame.
    private static func runLibsecretsFileBackend(on context: MainContext, until done: () -> Bool) {
        while !done() { g_main_context_iteration(context.pointer, 1) }
    }

    /// When the latest portal `Response` came in: `SandboxKeyringBackend.warmUp` asks again
    /// only when an answer came and libsecret did not take it up. Any request's answer counts
    /// (the filter cannot tell whose): the app's own portal requests during a process's first
    /// call could at worst make one more request for the key.
    static var latestAnswerHeard: ContinuousClock.Instant? { answerHeard.withLock { $0 } }
    private static let answerHeard = Locked<ContinuousClock.Instant?>(nil)

    /// The contexts of requests under way, by address.
    private static let requesting = Locked<[UInt: MainContext]>([:])
    /// Whether `prepareBus` has done its work.
    private static let prepared = Locked(false)

    private static let portal = "org.freedesktop.portal.Desktop"
    private static let requestInterface = "org.freedesktop.portal.Request"

    /// Subscribes (once) to a portal signal no one sends, so that GLib watches the portal's
    /// owner, adds the filter, and waits for GLib's owner lookup: a `GetNameOwner` of our own,
    /// sent after it to the same bus daemon, is answered after it.
    private static func prepareBus() throws(GLibError) {
        try prepared.withLock { prepared throws(GLibError) in
            guard !prepared else { return }
            // The shared session connection, which libsecret uses too: its reference is kept for
            // the process's life, with the subscription and the filter.
            let bus = try withGError { g_bus_get_sync(G_BUS_TYPE_SESSION, nil, $0) }
            guard let bus else { throw GLibError.protocolViolation("No session bus") }
            _ = g_dbus_connection_signal_subscribe(
                bus, portal, requestInterface, "Response", "/dev/securestore/OwnerWatch", nil,
                G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, { _, _, _, _, _, _, _ in }, nil, nil)
            _ = g_dbus_connection_add_filter(bus, filter, nil, nil)
            let name = g_variant_new_tuple([g_variant_new_string(portal)], 1)
            // Only its timing matters: an error (no owner yet) still comes after GLib's lookup.
            let reply = try? withGError {
                g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "GetNameOwner", name, nil, G_DBUS_CALL_FLAGS_NONE, 2000, nil, $0)
            }
            if let reply { g_variant_unref(reply) }
            prepared = true
        }
    }

    private static let filter: GDBusMessageFilterFunction = { _, message, incoming, _ in
        guard incoming != 0, let message, g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_SIGNAL,
              let interface = g_dbus_message_get_interface(message), String(cString: interface) == requestInterface,
              let member = g_dbus_message_get_member(message), String(cString: member) == "Response"
        else { return message }
        answerHeard.withLock { $0 = .now }
        for context in requesting.withLock({ Array($0.values) }) {
            context.catchUp(within: .seconds(1))
        }
        return message
    }

    /// A GMainContext of our own, freed with the last reference (the filter may hold one).
    private final class MainContext: @unchecked Sendable {
        let pointer = g_main_context_new()!
        var address: UInt { UInt(bitPattern: UnsafeRawPointer(pointer)) }
        deinit { g_main_context_unref(pointer) }

        /// Waits (up to `timeout`) until the context has dispatched every source of higher than
        /// idle priority that is ready now or becomes ready first: the reply's callback among them.
        func catchUp(within timeout: DispatchTimeInterval) {
            let caughtUp = DispatchSemaphore(value: 0)
            let source = g_idle_source_new()!
            g_source_set_callback(source, { data in
                Unmanaged<DispatchSemaphore>.fromOpaque(data!).takeUnretainedValue().signal()
                return 0   // G_SOURCE_REMOVE
            }, Unmanaged.passRetained(caughtUp).toOpaque(), { data in
                Unmanaged<DispatchSemaphore>.fromOpaque(data!).release()
            })
            g_source_attach(source, pointer)
            g_source_unref(source)
            _ = caughtUp.wait(timeout: .now() + timeout)
        }
    }
}
#endif
