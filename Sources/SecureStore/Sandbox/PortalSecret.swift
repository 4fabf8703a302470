#if canImport(CLibSecret)
import CLibSecret
import Glibc

/// The sandboxed app's keyring key, from the Secret portal (`org.freedesktop.portal.Secret`,
/// `RetrieveSecret`): the desktop's keyring keeps one secret per app ID and writes it to a pipe
/// the app passes; the portal's `Response` says whether it did. The key is the first 64 bytes,
/// as libsecret reads it, so both open the same file.
///
/// The request names its handle (`handle_token`), and the answer is subscribed to, from the
/// portal's unique name only, before the request goes out: no answer can come before the
/// subscription, and no other process on the bus can answer in the portal's stead. Asked once
/// per process, as libsecret does; a failure is not remembered, so a later call asks again.
enum PortalSecret {
    static let keySize = 64
    private static let portal = "org.freedesktop.portal.Desktop"
    private static let requestPrefix = "/org/freedesktop/portal/desktop/request/"

    private static let cached = Locked<[UInt8]?>(nil)
    private static let asking = PthreadMutex()

    /// The key, asking the portal on first use (waiting up to `timeout`). Blocking.
    static func password(timeout: Duration = .seconds(30)) throws(SecureStoreError) -> [UInt8] {
        if let key = cached.withLock({ $0 }) { return key }
        asking.lock()
        defer { asking.unlock() }
        if let key = cached.withLock({ $0 }) { return key }
        let key = try retrieve(timeoutMilliseconds: Int32(clamping: timeout.components.seconds * 1000 + 1))
        cached.withLock { $0 = key }
        return key
    }

    private static func retrieve(timeoutMilliseconds: Int32) throws(SecureStoreError) -> [UInt8] {
        let bus: OpaquePointer
        do {
            guard let connection = try withGError({ g_bus_get_sync(G_BUS_TYPE_SESSION, nil, $0) }) else {
                throw GLibError.protocolViolation("No session bus")
            }
            bus = connection
        } catch {
            throw unavailable("no session bus: \((error as? GLibError)?.message ?? "")")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
        let owner: String
        do {
            owner = try portalOwner(bus, timeoutMilliseconds: min(timeoutMilliseconds, 5000))
        } catch {
            throw unavailable("the portal is not on the bus: \(error.message)")
        }
        var token = [UInt8](repeating: 0, count: 8)
        gcry_create_nonce(&token, token.count)
        let handleToken = "securestore" + token.map { String($0, radix: 16) }.joined()
        let sender = String(String(cString: g_dbus_connection_get_unique_name(bus)).dropFirst()).replacingDots()
        let handle = requestPrefix + sender + "/" + handleToken

        let context = g_main_context_new()!
        g_main_context_push_thread_default(context)
        defer {
            g_main_context_pop_thread_default(context)
            g_main_context_unref(context)
        }
        let answer = Answer()
        let unmanaged = Unmanaged.passRetained(answer)
        defer { unmanaged.release() }
        let subscription = g_dbus_connection_signal_subscribe(
            bus, owner, "org.freedesktop.portal.Request", "Response", handle, nil, G_DBUS_SIGNAL_FLAGS_NONE,
            { _, _, _, _, _, parameters, data in
                guard let parameters, let data,
                      String(cString: g_variant_get_type_string(parameters)) == "(ua{sv})" else { return }
                let code = g_variant_get_child_value(parameters, 0)!
                defer { g_variant_unref(code) }
                Unmanaged<Answer>.fromOpaque(data).takeUnretainedValue().code = g_variant_get_uint32(code)
            }, unmanaged.toOpaque(), nil)
        defer { g_dbus_connection_signal_unsubscribe(bus, subscription) }

        var ends: [Int32] = [-1, -1]
        guard g_unix_open_pipe(&ends, FD_CLOEXEC, nil) != 0 else { throw unavailable("no pipe") }
        defer { close(ends[0]) }
        let descriptors = g_unix_fd_list_new()!
        defer { g_object_unref(UnsafeMutableRawPointer(descriptors)) }
        _ = g_unix_fd_list_append(descriptors, ends[1], nil)
        close(ends[1])

        let arguments = GLibValues.tuple([g_variant_new_handle(0), GLibValues.makeVariantDictionary([("handle_token", g_variant_new_string(handleToken))])])
        let replyType = g_variant_type_new("(o)")
        defer { g_variant_type_free(replyType) }
        let reply: OpaquePointer?
        do {
            reply = try withGError {
                g_dbus_connection_call_with_unix_fd_list_sync(
                    bus, portal, "/org/freedesktop/portal/desktop", "org.freedesktop.portal.Secret", "RetrieveSecret",
                    arguments, replyType, G_DBUS_CALL_FLAGS_NONE, timeoutMilliseconds, descriptors, nil, nil, $0)
            }
        } catch {
            throw unavailable("the portal refused the request: \(error.message)")
        }
        if let reply {
            defer { g_variant_unref(reply) }
            guard GLibValues.tupleString(reply, at: 0) == handle else {
                throw unavailable("the portal answered on another request path than the one asked for")
            }
        }
        // Wait for the answer on this thread's own context, which only the subscription uses.
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        while answer.code == nil, ContinuousClock.now < deadline {
            let wake = g_timeout_source_new(50)!
            g_source_set_callback(wake, { _ in 0 }, nil, nil)
            g_source_attach(wake, context)
            g_main_context_iteration(context, 1)
            g_source_destroy(wake)
            g_source_unref(wake)
        }
        switch answer.code {
        case nil:
            throw SecureStoreError(.timeout, "The Secret portal did not hand over the sandbox keyring's key in time.")
        case 0:
            return try readKey(ends[0], deadline: deadline)
        case 1:
            throw SecureStoreError(.authenticationCanceled, "The desktop's keyring did not hand the sandbox keyring's key over: its unlock dialog was dismissed (Secret portal).")
        default:
            // GNOME Keyring's backend answers a dismissed unlock dialog with an error, which the
            // portal reports as any failure.
            throw unavailable("the portal could not get the key from the desktop's keyring (none running, or locked and its unlock dialog dismissed)")
        }
    }

    /// The Secret portal's interface version (its `version` property), for `securestore doctor`.
    /// Blocking, for at most `timeoutMilliseconds`.
    static func version(timeoutMilliseconds: Int32) throws(SecureStoreError) -> UInt32 {
        do throws(GLibError) {
            guard let bus = try withGError({ g_bus_get_sync(G_BUS_TYPE_SESSION, nil, $0) }) else { throw GLibError.protocolViolation("No session bus") }
            g_dbus_connection_set_exit_on_close(bus, 0)
            defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
            let replyType = g_variant_type_new("(v)")
            defer { g_variant_type_free(replyType) }
            let reply = try withGError {
                g_dbus_connection_call_sync(bus, portal, "/org/freedesktop/portal/desktop", "org.freedesktop.DBus.Properties", "Get",
                                            GLibValues.tuple([g_variant_new_string("org.freedesktop.portal.Secret"), g_variant_new_string("version")]),
                                            replyType, G_DBUS_CALL_FLAGS_NONE, timeoutMilliseconds, nil, $0)
            }
            guard let reply else { throw GLibError.protocolViolation("No reply") }
            defer { g_variant_unref(reply) }
            let boxed = g_variant_get_child_value(reply, 0)!
            defer { g_variant_unref(boxed) }
            let value = g_variant_get_variant(boxed)!
            defer { g_variant_unref(value) }
            guard String(cString: g_variant_get_type_string(value)) == "u" else { throw GLibError.protocolViolation("The version is not a number") }
            return g_variant_get_uint32(value)
        } catch {
            throw unavailable("the portal did not say its version: \(error.message)")
        }
    }

    /// The portal's unique name, so that only its own signals count.
    private static func portalOwner(_ bus: OpaquePointer, timeoutMilliseconds: Int32) throws(GLibError) -> String {
        let reply = try withGError {
            g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                        GLibValues.tuple([g_variant_new_string(portal)]), nil, G_DBUS_CALL_FLAGS_NONE, timeoutMilliseconds, nil, $0)
        }
        guard let reply else { throw GLibError.protocolViolation("No owner") }
        defer { g_variant_unref(reply) }
        return GLibValues.tupleString(reply, at: 0)
    }

    /// The first `keySize` bytes written to the pipe, waiting for them until `deadline`.
    private static func readKey(_ descriptor: Int32, deadline: ContinuousClock.Instant) throws(SecureStoreError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: keySize)
        var done = 0
        while done < keySize {
            let left = deadline - .now
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(clamping: max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else {
                wipe(&key)
                throw SecureStoreError(.timeout, "The Secret portal did not write the sandbox keyring's key in time.")
            }
            let count = key.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, keySize - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                wipe(&key)
                throw unavailable("the portal wrote \(done) bytes of key, fewer than \(keySize)")
            }
            done += count
        }
        return key
    }

    private static func unavailable(_ reason: String) -> SecureStoreError {
        SecureStoreError(.serviceUnavailable, "The Secret portal did not hand the sandbox keyring's key over: \(reason).")
    }

    /// The response code, set on this thread's context by the subscription.
    private final class Answer: @unchecked Sendable {
        var code: UInt32?
    }
}

private extension String {
    /// A unique bus name as a request path element: `1.42` → `1_42`.
    func replacingDots() -> String { String(map { $0 == "." ? "_" : $0 }) }
}
#endif
