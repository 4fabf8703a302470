import Testing
@testable import SecureStore
#if canImport(CLibSecret)
import CLibSecret

/// Who owns the Secret Service is learnt from the bus's own answers, in the order the filter
/// sees them, and from nobody else's: driven with messages built here, on a bus connection that
/// is only a key (``ServiceOwners`` never uses it otherwise), so no bus is needed.
@Suite("Service owners")
struct ServiceOwnersTests {
    /// A key for a bus connection of this test's own.
    let bus = OpaquePointer(bitPattern: UInt.random(in: 0x1000...0xffff_ffff) << 4)!

    init() {
        ServiceOwners.track(bus)
    }

    func serviceCall(serial: UInt32) -> OpaquePointer {
        let message = g_dbus_message_new_method_call(ServiceOwners.serviceName, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service", "SearchItems")!
        g_dbus_message_set_serial(message, serial)
        return message
    }

    func ownerQuestion(serial: UInt32) -> OpaquePointer {
        let message = g_dbus_message_new_method_call(ServiceOwners.busName, "/org/freedesktop/DBus", ServiceOwners.busName, "GetNameOwner")!
        g_dbus_message_set_body(message, GLibValues.tuple([g_variant_new_string(ServiceOwners.serviceName)]))
        g_dbus_message_set_serial(message, serial)
        return message
    }

    func answer(to question: OpaquePointer, from sender: String, owner: String) -> OpaquePointer {
        let reply = g_dbus_message_new_method_reply(question)!
        g_dbus_message_set_sender(reply, sender)
        g_dbus_message_set_body(reply, GLibValues.tuple([g_variant_new_string(owner)]))
        return reply
    }

    func release(_ messages: OpaquePointer...) {
        messages.forEach { g_object_unref(UnsafeMutableRawPointer($0)) }
    }

    /// Asks who owns the service, with `serial`, and has the bus answer `owner`.
    func learn(owner: String, serial: UInt32) {
        let question = ownerQuestion(serial: serial)
        ServiceOwners.sending(question, on: bus)
        let answered = answer(to: question, from: ServiceOwners.busName, owner: owner)
        #expect(ServiceOwners.admits(reply: answered, on: bus))
        release(question, answered)
    }

    @Test func anAnswerFromAnotherPeerIsDroppedAndTheBussOwnIsLearnt() {
        let question = ownerQuestion(serial: 7)
        ServiceOwners.sending(question, on: bus)
        let forged = answer(to: question, from: ":1.66", owner: ":1.66")
        #expect(!ServiceOwners.admits(reply: forged, on: bus), "a peer's answer must not reach the caller")
        #expect(ServiceOwners.owner(on: bus) == nil)
        let real = answer(to: question, from: ServiceOwners.busName, owner: ":1.5")
        #expect(ServiceOwners.admits(reply: real, on: bus))
        #expect(ServiceOwners.owner(on: bus) == ":1.5")
        // Answered once: a second answer with the same serial teaches nothing.
        let late = answer(to: question, from: ServiceOwners.busName, owner: ":1.9")
        _ = ServiceOwners.admits(reply: late, on: bus)
        #expect(ServiceOwners.owner(on: bus) == ":1.5")
        release(question, forged, real, late)
    }

    @Test func noOwnerIsLearntFromTheBussNameHasNoOwner() {
        learn(owner: ":1.5", serial: 3)
        let second = ownerQuestion(serial: 4)
        ServiceOwners.sending(second, on: bus)
        let noOwner = g_dbus_message_new_method_error_literal(second, "org.freedesktop.DBus.Error.NameHasNoOwner", "no owner")!
        g_dbus_message_set_sender(noOwner, ServiceOwners.busName)
        #expect(ServiceOwners.admits(reply: noOwner, on: bus))
        #expect(ServiceOwners.owner(on: bus) == nil)
        release(second, noOwner)
    }

    @Test func anotherErrorOrAWellKnownNameSaysNothingAboutTheOwner() {
        learn(owner: ":1.5", serial: 5)
        let second = ownerQuestion(serial: 6)
        ServiceOwners.sending(second, on: bus)
        let failed = g_dbus_message_new_method_error_literal(second, "org.freedesktop.DBus.Error.LimitsExceeded", "busy")!
        g_dbus_message_set_sender(failed, ServiceOwners.busName)
        #expect(ServiceOwners.admits(reply: failed, on: bus))
        let third = ownerQuestion(serial: 8)
        ServiceOwners.sending(third, on: bus)
        let wellKnown = answer(to: third, from: ServiceOwners.busName, owner: "org.example.NotUnique")
        #expect(ServiceOwners.admits(reply: wellKnown, on: bus))
        #expect(ServiceOwners.owner(on: bus) == ":1.5")
        release(second, failed, third, wellKnown)
    }

    /// Only the bus answers a call to the bus: `GetConnectionUnixProcessID` and `GetNameOwner`
    /// of another name tell the provider, so another peer's answer to them is dropped.
    @Test(arguments: [("GetConnectionUnixProcessID", "(u)"), ("GetNameOwner", "(s)")])
    func anAnswerToAnyCallToTheBusFromAnotherPeerIsDropped(method: String, replyType: String) {
        let question = g_dbus_message_new_method_call(ServiceOwners.busName, "/org/freedesktop/DBus", ServiceOwners.busName, method)!
        g_dbus_message_set_body(question, GLibValues.tuple([g_variant_new_string(method == "GetNameOwner" ? "org.kde.kwalletd5" : ServiceOwners.serviceName)]))
        g_dbus_message_set_serial(question, 40)
        ServiceOwners.sending(question, on: bus)
        let body = { replyType == "(u)" ? GLibValues.tuple([g_variant_new_uint32(1)]) : GLibValues.tuple([g_variant_new_string(":1.66")]) }
        let forged = g_dbus_message_new_method_reply(question)!
        g_dbus_message_set_sender(forged, ":1.66")
        g_dbus_message_set_body(forged, body())
        #expect(!ServiceOwners.admits(reply: forged, on: bus), "a peer's answer to a call to the bus must not reach the caller")
        let real = g_dbus_message_new_method_reply(question)!
        g_dbus_message_set_sender(real, ServiceOwners.busName)
        g_dbus_message_set_body(real, body())
        #expect(ServiceOwners.admits(reply: real, on: bus))
        release(question, forged, real)
    }

    /// In a Flatpak sandbox xdg-dbus-proxy answers the bus's questions about names the app may
    /// not see itself, with `NameHasNoOwner` and no sender (no peer can send without one: the
    /// bus stamps what it routes). Such an answer is the bus's; dropped, it would leave the
    /// question unanswered, and every connection opened in a sandbox would wait out its timeout.
    @Test func anAnswerWithoutASenderIsTheBussOwn() {
        learn(owner: ":1.5", serial: 60)
        let hidden = g_dbus_message_new_method_call(ServiceOwners.busName, "/org/freedesktop/DBus", ServiceOwners.busName, "GetNameOwner")!
        g_dbus_message_set_body(hidden, GLibValues.tuple([g_variant_new_string("org.kde.kwalletd5")]))
        g_dbus_message_set_serial(hidden, 61)
        ServiceOwners.sending(hidden, on: bus)
        let proxys = g_dbus_message_new_method_error_literal(hidden, "org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.DBus.Error.NameHasNoOwner")!
        #expect(ServiceOwners.admits(reply: proxys, on: bus))
        // The service's own name hidden too: no owner, as the bus would say.
        let question = ownerQuestion(serial: 62)
        ServiceOwners.sending(question, on: bus)
        let noOwner = g_dbus_message_new_method_error_literal(question, "org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.DBus.Error.NameHasNoOwner")!
        #expect(ServiceOwners.admits(reply: noOwner, on: bus))
        #expect(ServiceOwners.owner(on: bus) == nil)
        release(hidden, proxys, question, noOwner)
    }

    /// A call addressed to the unique name of the daemon a connection was opened with is
    /// checked as one to the service, also once that daemon lost the name: only it, the owner
    /// now, or the bus may answer.
    @Test func aCallToAFormerOwnersUniqueNameIsAnsweredOnlyByIt() {
        learn(owner: ":1.5", serial: 50)
        learn(owner: ":1.7", serial: 51)
        let call = g_dbus_message_new_method_call(":1.5", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service", "SearchItems")!
        g_dbus_message_set_serial(call, 52)
        ServiceOwners.sending(call, on: bus)
        let forged = answer(to: call, from: ":1.66", owner: "")
        #expect(!ServiceOwners.admits(reply: forged, on: bus))
        let real = answer(to: call, from: ":1.5", owner: "")
        #expect(ServiceOwners.admits(reply: real, on: bus))
        release(call, forged, real)
    }

    /// GLib frees the shared session bus connection once nobody holds it, and may put the next
    /// one at the same address: that one must not inherit the old one's questions, or its own
    /// call with the same serial would have the service's reply dropped, and hang.
    @Test func aForgottenConnectionLeavesNothingToTheNextAtItsAddress() {
        let unanswered = ownerQuestion(serial: 8)
        ServiceOwners.sending(unanswered, on: bus)
        ServiceOwners.forget(connectionAt: UInt(bitPattern: UnsafeRawPointer(bus)))
        #expect(!ServiceOwners.isTracking(connectionAt: UInt(bitPattern: UnsafeRawPointer(bus))))
        // Nothing is learnt about a connection that is not followed.
        ServiceOwners.sending(unanswered, on: bus)
        #expect(!ServiceOwners.isTracking(connectionAt: UInt(bitPattern: UnsafeRawPointer(bus))))

        ServiceOwners.track(bus)
        learn(owner: ":1.5", serial: 6)
        let call = serviceCall(serial: 8)
        ServiceOwners.sending(call, on: bus)
        let reply = answer(to: call, from: ":1.5", owner: "")
        #expect(ServiceOwners.admits(reply: reply, on: bus), "the service's reply was taken for an answer to the old connection's question")
        release(unanswered, call, reply)
    }
}

/// What the filter keeps about a real bus connection lasts as long as the connection: GLib's
/// finalizing it forgets its owner, its serials and its callers' pending replies.
@Suite("Bus connection lifetime", TestSelection(), .tags(.keyring))
struct BusConnectionLifetimeTests {
    /// A private connection to the session bus. (The shared one lives as long as the other
    /// tests hold it.)
    static func privateConnection() throws -> OpaquePointer {
        let address = try #require(g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, nil, nil))
        defer { g_free(address) }
        let flags = GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT.rawValue | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION.rawValue)
        let bus = try #require(g_dbus_connection_new_for_address_sync(address, flags, nil, nil, nil))
        g_dbus_connection_set_exit_on_close(bus, 0)
        return bus
    }

    @Test func aFinalizedConnectionIsForgottenAndItsWaitingCallersAreAnswered() async throws {
        // A peer that never answers: its filter swallows every call.
        let silent = try Self.privateConnection()
        defer { g_object_unref(UnsafeMutableRawPointer(silent)) }
        _ = g_dbus_connection_add_filter(silent, { _, message, incoming, _ in
            guard incoming != 0, let message, g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL else { return message }
            g_object_unref(UnsafeMutableRawPointer(message))
            return nil
        }, nil, nil)
        let bus = try Self.privateConnection()
        let key = UInt(bitPattern: UnsafeRawPointer(bus))
        ReplyRouter.shared.install(on: bus)
        #expect(ServiceOwners.isTracking(connectionAt: key))

        let call = g_dbus_message_new_method_call(g_dbus_connection_get_unique_name(silent), "/nowhere", "org.example.Nowhere", "Wait")!
        defer { g_object_unref(UnsafeMutableRawPointer(call)) }
        let outcome = Locked<Result<OpaquePointer?, GLibError>?>(nil)
        _ = try ReplyRouter.shared.send([call], on: bus) { _ in { result in outcome.withLock { $0 = result } } }
        #expect(ReplyRouter.shared.pendingCalls(onConnectionAt: key) == 1)

        // Released without closing it first: closing would queue the `closed` signal on the
        // thread's main context, which would hold the connection until someone ran it.
        g_object_unref(UnsafeMutableRawPointer(bus))
        // GDBus's I/O thread may hold the last reference a little longer.
        for _ in 0..<500 where ServiceOwners.isTracking(connectionAt: key) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(!ServiceOwners.isTracking(connectionAt: key))
        #expect(ReplyRouter.shared.pendingCalls(onConnectionAt: key) == 0)
        let closed = outcome.withLock { result -> Bool in
            guard case .failure(let error) = result else { return false }
            return error.is(GLibError.io, G_IO_ERROR_CLOSED.rawValue)
        }
        #expect(closed, "the waiting caller was not told the connection closed")
    }
}
#endif
