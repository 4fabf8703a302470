#if canImport(CLibSecret)
import CLibSecret
import Dispatch
import Synchronization

// Every call into libsecret, GIO and GLib that the package makes lives in this file.

/// A GError, copied out of C before the GError is freed.
struct GLibError: Error {
    var domain: GQuark
    var code: Int32
    var message: String
    /// The D-Bus error name the service replied with, such as
    /// `org.freedesktop.Secret.Error.NoSession`, when GLib has no code of its own for it.
    var remoteName: String?

    var domainName: String { g_quark_to_string(domain).map { String(cString: $0) } ?? "unknown" }

    init(domain: GQuark, code: Int32, message: String, remoteName: String? = nil) {
        self.domain = domain
        self.code = code
        self.message = message
        self.remoteName = remoteName
    }

    /// Copies `error` (which the caller still frees).
    init(_ error: UnsafeMutablePointer<GError>) {
        self.init(domain: error.pointee.domain, code: error.pointee.code,
                  message: error.pointee.message.map { String(cString: $0) } ?? "",
                  remoteName: takeString(g_dbus_error_get_remote_error(error)))
    }

    func `is`(_ domain: GQuark, _ code: UInt32) -> Bool {
        self.domain == domain && self.code == Int32(bitPattern: code)
    }
}

/// Calls `body` with a GError out-parameter and throws the GError it sets, if any.
private func withGError<T>(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T) throws(GLibError) -> T {
    var error: UnsafeMutablePointer<GError>?
    let result = body(&error)
    if let error {
        defer { g_error_free(error) }
        throw GLibError(error)
    }
    return result
}

/// The GCancellable of one backend call: cancelled by task cancellation or by the call's timer.
final class GCancellation: Sendable {
    // GCancellable is thread-safe; the pointer itself never changes.
    nonisolated(unsafe) let cancellable: UnsafeMutablePointer<GCancellable>
    private let timedOutFlag = Atomic(false)
    private let lastStepStart = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    init() { cancellable = g_cancellable_new() }
    deinit { g_object_unref(cancellable) }

    /// Marks the start of one wait on the Secret Service; the timeout counts from here.
    func beginStep() {
        lastStepStart.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Nanoseconds since the current step began.
    var nanosecondsInStep: UInt64 {
        DispatchTime.now().uptimeNanoseconds &- lastStepStart.load(ordering: .relaxed)
    }

    func cancel() { g_cancellable_cancel(cancellable) }

    /// Cancels because the timeout passed, which callers report as a timeout, not a cancellation.
    func timeOut() {
        timedOutFlag.store(true, ordering: .sequentiallyConsistent)
        cancel()
    }

    var timedOut: Bool { timedOutFlag.load(ordering: .sequentiallyConsistent) }

    var isCancelled: Bool { g_cancellable_is_cancelled(cancellable) != 0 }

    /// The error a cancelled GIO call reports, for work that notices cancellation itself.
    var cancelledError: GLibError {
        GLibError(domain: GLibErrors.io, code: Int32(bitPattern: GLibErrors.cancelled), message: "Operation was cancelled")
    }

    static func isCancellation(_ error: any Error) -> Bool {
        (error as? GLibError)?.is(GLibErrors.io, GLibErrors.cancelled) == true
    }
}

/// Error domains and codes the backend tells apart.
enum GLibErrors {
    static var io: GQuark { g_io_error_quark() }
    static var dbus: GQuark { g_dbus_error_quark() }
    static var secret: GQuark { secret_error_get_quark() }

    static let cancelled = G_IO_ERROR_CANCELLED.rawValue
    static let ioTimedOut = G_IO_ERROR_TIMED_OUT.rawValue
    static let isLocked = SECRET_ERROR_IS_LOCKED.rawValue
    static let noSuchObject = SECRET_ERROR_NO_SUCH_OBJECT.rawValue
    static let dbusTimeouts = [G_DBUS_ERROR_TIMEOUT.rawValue, G_DBUS_ERROR_TIMED_OUT.rawValue]
    static let unknownObject = [G_DBUS_ERROR_UNKNOWN_OBJECT.rawValue, G_DBUS_ERROR_UNKNOWN_METHOD.rawValue]
    /// The bus or the service is not there (any more).
    static let dbusUnavailable = [
        G_DBUS_ERROR_SERVICE_UNKNOWN, G_DBUS_ERROR_NAME_HAS_NO_OWNER, G_DBUS_ERROR_NO_REPLY,
        G_DBUS_ERROR_DISCONNECTED, G_DBUS_ERROR_NO_SERVER, G_DBUS_ERROR_SPAWN_EXEC_FAILED,
        G_DBUS_ERROR_SPAWN_FAILED, G_DBUS_ERROR_SPAWN_CHILD_EXITED, G_DBUS_ERROR_SPAWN_CHILD_SIGNALED,
        G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND, G_DBUS_ERROR_SPAWN_SERVICE_INVALID, G_DBUS_ERROR_ADDRESS_IN_USE,
        G_DBUS_ERROR_BAD_ADDRESS,
    ].map(\.rawValue)
    /// The connection to the bus failed or broke.
    static let ioUnavailable = [
        G_IO_ERROR_NOT_FOUND, G_IO_ERROR_CLOSED, G_IO_ERROR_CONNECTION_REFUSED, G_IO_ERROR_BROKEN_PIPE,
        G_IO_ERROR_CONNECTION_CLOSED, G_IO_ERROR_NOT_CONNECTED, G_IO_ERROR_PERMISSION_DENIED,
    ].map(\.rawValue)

    static func isUnavailable(_ error: GLibError) -> Bool {
        (error.domain == dbus && dbusUnavailable.contains(UInt32(bitPattern: error.code)))
            || (error.domain == io && ioUnavailable.contains(UInt32(bitPattern: error.code)))
    }

    /// The connection belongs to a service that went away: its daemon is gone, or was replaced
    /// by one that does not know this connection's transfer session. A new connection may work.
    static func needsNewConnection(_ error: GLibError) -> Bool {
        isUnavailable(error) || error.remoteName == "org.freedesktop.Secret.Error.NoSession"
    }

    static func isTimeout(_ error: GLibError) -> Bool {
        error.is(io, ioTimedOut) || (error.domain == dbus && dbusTimeouts.contains(UInt32(bitPattern: error.code)))
    }

    /// The item (or its collection) is gone: deleted meanwhile, or no such keyring.
    static func isNoSuchObject(_ error: GLibError) -> Bool {
        error.is(secret, noSuchObject) || (error.domain == dbus && unknownObject.contains(UInt32(bitPattern: error.code)))
    }
}

/// A connection to the Secret Service: libsecret's `SecretService` proxy with an open transfer
/// session. Owns the proxy and releases it in `deinit`.
///
/// Its methods block on D-Bus: call them only on ``BlockingWorkers``. libsecret's proxy is a
/// `GDBusProxy`, which may be used from several threads at once.
final class SecretServiceConnection: @unchecked Sendable {
    private let service: UnsafeMutablePointer<SecretService>

    private var proxy: UnsafeMutablePointer<GDBusProxy> {
        UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)
    }

    /// Connects to the Secret Service on the session bus and opens a transfer session.
    init(cancellation: GCancellation) throws(GLibError) {
        let service = try withGError {
            secret_service_open_sync(secret_service_get_type(), nil, SECRET_SERVICE_OPEN_SESSION, cancellation.cancellable, $0)
        }
        guard let service else {
            throw GLibError(domain: GLibErrors.io, code: Int32(bitPattern: G_IO_ERROR_FAILED.rawValue),
                            message: "libsecret returned no Secret Service proxy")
        }
        self.service = service
        // GLib's shared session-bus connection exits the process when the bus goes away;
        // a library must not.
        g_dbus_connection_set_exit_on_close(g_dbus_proxy_get_connection(proxy), 0)
    }

    deinit {
        g_object_unref(service)
    }

    /// The paths of items whose attributes include all of `attributes`, unlocked and locked.
    func searchItems(_ attributes: [String: String], cancellation: GCancellation) throws(GLibError) -> (unlocked: [String], locked: [String]) {
        cancellation.beginStep()
        var unlocked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        var locked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        // Freed on every path: libsecret may fill them and still report an error.
        defer {
            g_strfreev(unlocked)
            g_strfreev(locked)
        }
        // No schema: libsecret's schema check silently drops calls it dislikes; ours ran in Swift.
        _ = try withAttributeTable(attributes) { table throws(GLibError) in
            try withGError {
                secret_service_search_for_dbus_paths_sync(service, nil, table, cancellation.cancellable, &unlocked, &locked, $0)
            }
        }
        return (strings(unlocked), strings(locked))
    }

    /// The secret of the item at `path`, decoded as UTF-8; `nil` when libsecret returns none
    /// (a prompt dismissed meanwhile).
    func secret(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> String? {
        cancellation.beginStep()
        let value = try withGError {
            secret_service_get_secret_for_dbus_path_sync(service, path, cancellation.cancellable, $0)
        }
        guard let value else { return nil }
        // secret_value_unref wipes libsecret's copy (egg-secure memory) before freeing it.
        defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
        var length: gsize = 0
        guard let bytes = secret_value_get(value, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(length)), as: UTF8.self)
    }

    /// Creates an item in the collection at `collectionPath`, or, when one with exactly these
    /// attributes exists there, replaces its label and secret. Returns the item's path.
    func createItem(
        inCollection collectionPath: String, label: String, attributes: [String: String], value: String,
        cancellation: GCancellation
    ) throws(GLibError) -> String {
        cancellation.beginStep()
        let secretValue = makeSecretValue(value)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        let labelVariant = g_variant_ref_sink(g_variant_new_string(label))
        let attributesVariant = g_variant_ref_sink(makeStringDictionary(attributes))
        defer {
            g_variant_unref(labelVariant)
            g_variant_unref(attributesVariant)
        }
        // Keys are freed by the table; the variants by the defer above.
        let properties = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, nil)
        defer { g_hash_table_unref(properties) }
        g_hash_table_insert(properties, g_strdup("org.freedesktop.Secret.Item.Label"), UnsafeMutableRawPointer(labelVariant))
        g_hash_table_insert(properties, g_strdup("org.freedesktop.Secret.Item.Attributes"), UnsafeMutableRawPointer(attributesVariant))
        let path = try withGError {
            secret_service_create_item_dbus_path_sync(
                service, collectionPath, properties, secretValue, SECRET_ITEM_CREATE_REPLACE,
                cancellation.cancellable, $0)
        }
        return takeString(path) ?? ""
    }

    func deleteItem(at path: String, cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        _ = try withGError {
            secret_service_delete_item_dbus_path_sync(service, path, cancellation.cancellable, $0)
        }
    }

    /// Asks the service to unlock `paths`, which may show the desktop's unlock dialog.
    /// Returns the paths that are unlocked afterwards (none when the user dismissed it).
    func unlock(_ paths: [String], cancellation: GCancellation) throws(GLibError) -> [String] {
        cancellation.beginStep()
        var unlocked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        defer { g_strfreev(unlocked) }
        _ = try withNullTerminatedStrings(paths) { array throws(GLibError) in
            try withGError {
                secret_service_unlock_dbus_paths_sync(service, array, cancellation.cancellable, &unlocked, $0)
            }
        }
        return strings(unlocked)
    }

    /// The collection path behind an alias such as `default`, or `nil` when the alias is unset.
    func collectionPath(forAlias alias: String, cancellation: GCancellation) throws(GLibError) -> String? {
        cancellation.beginStep()
        let path = try withGError {
            secret_service_read_alias_dbus_path_sync(service, alias, cancellation.cancellable, $0)
        }
        return takeString(path)
    }

    /// The attributes of the item at `path`, read with one D-Bus property call (no item proxy,
    /// no unlocking: attributes are readable while a collection is locked).
    func attributes(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> [String: String] {
        guard let dictionary = try property("org.freedesktop.Secret.Item", "Attributes", at: path, cancellation: cancellation) else { return [:] }
        defer { g_variant_unref(dictionary) }
        return Self.stringDictionary(dictionary)
    }

    /// The attributes of many items, with every request sent at once and the replies gathered
    /// as they come: one round trip's wait for the lot instead of one per item. Items that
    /// vanished meanwhile are left out.
    func attributes(ofItemsAt paths: [String], only name: String? = nil, cancellation: GCancellation) throws(GLibError) -> [String: [String: String]] {
        guard paths.count > 1 else {
            guard let path = paths.first else { return [:] }
            return [path: try attributes(ofItemAt: path, cancellation: cancellation)]
        }
        cancellation.beginStep()
        // A private main context on this worker thread receives the replies.
        let context = g_main_context_new()
        g_main_context_push_thread_default(context)
        defer {
            g_main_context_pop_thread_default(context)
            g_main_context_unref(context)
        }
        let replies = PendingReplies(expected: paths.count, only: name)
        for (index, path) in paths.enumerated() {
            g_dbus_connection_call(
                g_dbus_proxy_get_connection(proxy), g_dbus_proxy_get_name(proxy), path,
                "org.freedesktop.DBus.Properties", "Get", propertyGetParameters("org.freedesktop.Secret.Item", "Attributes"), nil,
                G_DBUS_CALL_FLAGS_NONE, -1, cancellation.cancellable,
                { source, result, slot in
                    // Balances the passRetained below: each call answers exactly once.
                    let slot = Unmanaged<PendingReplies.Slot>.fromOpaque(slot!).takeRetainedValue()
                    var error: UnsafeMutablePointer<GError>?
                    let reply = g_dbus_connection_call_finish(OpaquePointer(source), result, &error)
                    slot.replies.receive(reply, error, at: slot.index)
                },
                Unmanaged.passRetained(PendingReplies.Slot(replies, index)).toOpaque())
        }
        // Every call answers exactly once (a reply, an error, or cancellation), so this ends.
        while replies.outstanding > 0 {
            g_main_context_iteration(context, 1)
            cancellation.beginStep()
        }
        if let failure = replies.firstFailure { throw failure }
        var attributes: [String: [String: String]] = [:]
        for (path, reply) in zip(paths, replies.values) {
            guard let reply else { continue }
            attributes[path] = reply
        }
        return attributes
    }

    /// Whether the collection at `path` (an alias path such as
    /// `/org/freedesktop/secrets/aliases/default` works too) is locked.
    func isLocked(collectionAt path: String, cancellation: GCancellation) throws(GLibError) -> Bool {
        guard let locked = try property("org.freedesktop.Secret.Collection", "Locked", at: path, cancellation: cancellation) else { return false }
        defer { g_variant_unref(locked) }
        return String(cString: g_variant_get_type_string(locked)) == "b" && g_variant_get_boolean(locked) != 0
    }

    /// One D-Bus property of the object at `path`, unboxed; the caller unrefs it.
    private func property(_ interface: String, _ name: String, at path: String, cancellation: GCancellation) throws(GLibError) -> OpaquePointer? {
        cancellation.beginStep()
        let reply = try withGError {
            g_dbus_connection_call_sync(
                g_dbus_proxy_get_connection(proxy), g_dbus_proxy_get_name(proxy), path,
                "org.freedesktop.DBus.Properties", "Get", propertyGetParameters(interface, name), nil,
                G_DBUS_CALL_FLAGS_NONE, -1, cancellation.cancellable, $0)
        }
        return unboxPropertyReply(reply)
    }

    // MARK: - Conversions

    /// The entries of an `a{ss}` variant.
    static func stringDictionary(_ dictionary: OpaquePointer, only wanted: String? = nil) -> [String: String] {
        guard String(cString: g_variant_get_type_string(dictionary)) == "a{ss}" else { return [:] }
        if let wanted {
            // Looked up in place, without taking the dictionary apart.
            guard let found = g_variant_lookup_value(dictionary, wanted, nil) else { return [:] }
            defer { g_variant_unref(found) }
            return [wanted: String(cString: g_variant_get_string(found, nil))]
        }
        var attributes: [String: String] = [:]
        for index in 0..<g_variant_n_children(dictionary) {
            let entry = g_variant_get_child_value(dictionary, index)
            let name = g_variant_get_child_value(entry, 0)
            let value = g_variant_get_child_value(entry, 1)
            attributes[String(cString: g_variant_get_string(name, nil))] = String(cString: g_variant_get_string(value, nil))
            g_variant_unref(value)
            g_variant_unref(name)
            g_variant_unref(entry)
        }
        return attributes
    }

    /// A `SecretValue` holding exactly the UTF-8 bytes of `value` (NULs included), copied by
    /// libsecret into its wiping memory. Swift's own `String` storage is not copied first.
    private func makeSecretValue(_ value: String) -> OpaquePointer {
        var value = value
        return value.withUTF8 { bytes in
            let start = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: gchar.self) }
            return "".withCString { empty in
                secret_value_new(start ?? empty, gssize(bytes.count), "text/plain")
            }
        }
    }

    private func makeStringDictionary(_ dictionary: [String: String]) -> OpaquePointer {
        var entries: [OpaquePointer?] = dictionary.sorted { $0.key < $1.key }.map { name, value in
            g_variant_new_dict_entry(g_variant_new_string(name), g_variant_new_string(value))
        }
        let type = g_variant_type_new("{ss}")
        defer { g_variant_type_free(type) }
        return g_variant_new_array(type, &entries, gsize(entries.count))
    }
}

private func withAttributeTable<R>(_ attributes: [String: String], _ body: (OpaquePointer) throws(GLibError) -> R) throws(GLibError) -> R {
    let table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)!
    defer { g_hash_table_unref(table) }
    for (name, value) in attributes {
        g_hash_table_insert(table, g_strdup(name), g_strdup(value))
    }
    return try body(table)
}

private func withNullTerminatedStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<gchar>?>) throws(GLibError) -> R) throws(GLibError) -> R {
    let copies = strings.map { g_strdup($0) }
    defer { copies.forEach { g_free($0) } }
    var pointers = copies.map { UnsafePointer($0) } + [nil]
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(GLibError) in try body(buffer.baseAddress!) }
}

/// Replies to pipelined property calls, in the order the calls were made. Used only on the
/// worker thread that iterates the calls' main context.
private final class PendingReplies {
    /// One call's context: where its reply goes.
    final class Slot {
        let replies: PendingReplies
        let index: Int
        init(_ replies: PendingReplies, _ index: Int) {
            self.replies = replies
            self.index = index
        }
    }

    private(set) var values: [[String: String]?]
    private(set) var firstFailure: GLibError?
    private var received = 0

    /// Decode only this attribute, when set: listing keys needs nothing else.
    private let only: String?

    init(expected: Int, only: String?) {
        values = Array(repeating: nil, count: expected)
        self.only = only
    }

    var outstanding: Int { values.count - received }

    func receive(_ reply: OpaquePointer?, _ error: UnsafeMutablePointer<GError>?, at index: Int) {
        received += 1
        if let error {
            // An item deleted since the search is simply left out; any other failure counts.
            let failure = GLibError(error)
            g_error_free(error)
            if firstFailure == nil, !GLibErrors.isNoSuchObject(failure) { firstFailure = failure }
        }
        guard let dictionary = unboxPropertyReply(reply) else { return }
        defer { g_variant_unref(dictionary) }
        values[index] = SecretServiceConnection.stringDictionary(dictionary, only: only)
    }
}

/// The `(ss)` arguments of `org.freedesktop.DBus.Properties.Get`.
private func propertyGetParameters(_ interface: String, _ name: String) -> OpaquePointer {
    var children = [g_variant_new_string(interface), g_variant_new_string(name)]
    return g_variant_new_tuple(&children, 2)
}

/// The value inside a `Properties.Get` reply `(v)`, which the caller unrefs; takes `reply`.
private func unboxPropertyReply(_ reply: OpaquePointer?) -> OpaquePointer? {
    guard let reply else { return nil }
    defer { g_variant_unref(reply) }
    let boxed = g_variant_get_child_value(reply, 0)
    defer { g_variant_unref(boxed) }
    return g_variant_get_variant(boxed)
}

/// Takes ownership of a `gchar*` and returns it as a `String`.
private func takeString(_ string: UnsafeMutablePointer<gchar>?) -> String? {
    guard let string else { return nil }
    defer { g_free(string) }
    return String(cString: string)
}

/// The strings of a NULL-terminated `gchar**` (which the caller still owns).
private func strings(_ strings: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?) -> [String] {
    guard let strings else { return [] }
    var result: [String] = []
    var index = 0
    while let string = strings[index] {
        result.append(String(cString: string))
        index += 1
    }
    return result
}
#endif
