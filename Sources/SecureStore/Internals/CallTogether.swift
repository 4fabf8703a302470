#if canImport(CLibSecret)
import CLibSecret

/// A call to the bus itself (`org.freedesktop.DBus`) for ``callTogether(_:on:_:meanwhile:)``.
struct BusCall {
    let method: String
    /// The one argument (the bus's methods that SecureStore calls take one string). Kept as a
    /// string, so that a call can be sent again: its `GVariant` is made at each sending.
    let argument: String
    /// The type the reply's body must have, e.g. `(s)`.
    let replyType: String
}

/// Sends `calls` to the bus one after the other without waiting, runs `meanwhile`, then waits for all the
/// replies, blocking the thread: the calls cost one round trip together, hidden behind
/// `meanwhile`'s own. The bus delivers one sender's messages in the order sent, so a call
/// still takes effect after the ones before it (an `AddMatch` before a `GetNameOwner`).
/// Returns `meanwhile`'s result and each reply's body (owned by the caller) or its error, in
/// the order of `calls`; a call that cancellation ends fails with `G_IO_ERROR_CANCELLED`. When
/// `meanwhile` throws, the replies are still waited for, and dropped. Call it only on
/// ``BlockingWorkers``.
///
/// The replies come through a main context of this call's own, the thread's default only
/// while the calls are sent and while their replies are waited for: `meanwhile` may run
/// blocking GLib calls, which use contexts of their own, and no app's main loop is needed.
func callTogether<T, E: Error>(
    _ calls: [BusCall], on bus: OpaquePointer, _ cancellation: GCancellation, meanwhile: () throws(E) -> T
) throws(E) -> (T, [Result<OpaquePointer, GLibError>]) {
    let context = g_main_context_new()
    defer { g_main_context_unref(context) }
    let replies = CallTogetherReplies(count: calls.count)
    g_main_context_push_thread_default(context)
    for (index, call) in calls.enumerated() {
        let slot = Unmanaged.passRetained(CallTogetherSlot(replies: replies, index: index, replyType: call.replyType))
        g_dbus_connection_call(
            bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", call.method, GLibValues.tuple([g_variant_new_string(call.argument)]), nil, G_DBUS_CALL_FLAGS_NONE,
            G_MAXINT, cancellation.cancellable, { source, result, slot in
                Unmanaged<CallTogetherSlot>.fromOpaque(slot!).takeRetainedValue().finish(OpaquePointer(source), result)
            }, slot.toOpaque())
    }
    g_main_context_pop_thread_default(context)

    func waitForReplies() -> [Result<OpaquePointer, GLibError>] {
        g_main_context_push_thread_default(context)
        defer { g_main_context_pop_thread_default(context) }
        // Every call ends in its callback, with a reply, an error or the cancellation.
        while replies.pending > 0 { g_main_context_iteration(context, 1) }
        return replies.outcomes.map { $0! }
    }
    let result: T
    do {
        result = try meanwhile()
    } catch {
        for case .success(let body) in waitForReplies() { g_variant_unref(body) }
        throw error
    }
    cancellation.beginStep()
    return (result, waitForReplies())
}

/// Sends `calls` together and waits for their replies (see ``callTogether(_:on:_:meanwhile:)``).
func callTogether(_ calls: [BusCall], on bus: OpaquePointer, _ cancellation: GCancellation) -> [Result<OpaquePointer, GLibError>] {
    callTogether(calls, on: bus, cancellation) { () throws(Never) in }.1
}

/// The replies of one ``callTogether(_:on:_:meanwhile:)``: touched only on the thread that
/// waits for them, by the callbacks its own main context runs there.
private final class CallTogetherReplies {
    var outcomes: [Result<OpaquePointer, GLibError>?]
    var pending: Int
    init(count: Int) {
        outcomes = Array(repeating: nil, count: count)
        pending = count
    }
}

/// One call's place among the replies, and the reply type it must have.
private final class CallTogetherSlot {
    let replies: CallTogetherReplies
    let index: Int
    let replyType: String
    init(replies: CallTogetherReplies, index: Int, replyType: String) {
        self.replies = replies
        self.index = index
        self.replyType = replyType
    }

    func finish(_ bus: OpaquePointer?, _ result: OpaquePointer?) {
        replies.outcomes[index] = Result { () throws(GLibError) -> OpaquePointer in
            let body = try withGError { g_dbus_connection_call_finish(bus, result, $0) }
            guard let body else { throw GLibError.protocolViolation("A call returned no reply") }
            guard String(cString: g_variant_get_type_string(body)) == replyType else {
                g_variant_unref(body)
                throw GLibError.protocolViolation("A reply was not of type \(replyType)")
            }
            return body
        }
        replies.pending -= 1
    }
}
#endif
