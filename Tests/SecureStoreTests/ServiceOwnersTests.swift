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

    func ownerQuestion(serial: UInt32) -> OpaquePointer {
        let message = g_dbus_message_new_method_call(ServiceOwners.busName, "/org/freedesktop/DBus", ServiceOwners.busName, "GetNameOwner")!
        g_dbus_message_set_body(message, tuple([g_variant_new_string(ServiceOwners.serviceName)]))
        g_dbus_message_set_serial(message, serial)
        return message
    }

    func answer(to question: OpaquePointer, from sender: String, owner: String) -> OpaquePointer {
        let reply = g_dbus_message_new_method_reply(question)!
        g_dbus_message_set_sender(reply, sender)
        g_dbus_message_set_body(reply, tuple([g_variant_new_string(owner)]))
        return reply
    }

    func release(_ messages: OpaquePointer...) {
        messages.forEach { g_object_unref(UnsafeMutableRawPointer($0)) }
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
        let first = ownerQuestion(serial: 3)
        ServiceOwners.sending(first, on: bus)
        let owned = answer(to: first, from: ServiceOwners.busName, owner: ":1.5")
        #expect(ServiceOwners.admits(reply: owned, on: bus))
        let second = ownerQuestion(serial: 4)
        ServiceOwners.sending(second, on: bus)
        let noOwner = g_dbus_message_new_method_error_literal(second, "org.freedesktop.DBus.Error.NameHasNoOwner", "no owner")!
        g_dbus_message_set_sender(noOwner, ServiceOwners.busName)
        #expect(ServiceOwners.admits(reply: noOwner, on: bus))
        #expect(ServiceOwners.owner(on: bus) == nil)
        release(first, owned, second, noOwner)
    }

    @Test func anotherErrorOrAWellKnownNameSaysNothingAboutTheOwner() {
        let first = ownerQuestion(serial: 5)
        ServiceOwners.sending(first, on: bus)
        let owned = answer(to: first, from: ServiceOwners.busName, owner: ":1.5")
        _ = ServiceOwners.admits(reply: owned, on: bus)
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
        release(first, owned, second, failed, third, wellKnown)
    }
}
#endif
