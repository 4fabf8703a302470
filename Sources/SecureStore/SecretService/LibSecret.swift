#if canImport(CLibSecret)
import CLibSecret
import Dispatch
import Synchronization

// The Secret Service connection and the GLib interop it rests on: GError, cancellation, GVariant
// conversion and the process-wide reply router. libsecret's password API (the sandbox keyring)
// is in LibSecretPassword.swift, the portal's first request in PortalKeyRequest.swift, and the
// signals in SecretServiceSignals.swift and ServiceOwners.swift.

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

    /// The service offered only a transfer session that does not encrypt secrets.
    static func unencryptedSession(_ algorithm: String) -> GLibError {
        GLibError(domain: GLibErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue),
                  message: "The Secret Service offered only the \"\(algorithm)\" transfer session, which does not encrypt secrets; SecureStore requires \(SecretServiceConnection.encryptedTransfer)",
                  remoteName: unencryptedSessionName)
    }

    /// Marks ``unencryptedSession(_:)`` (no D-Bus error has this name).
    static let unencryptedSessionName = "dev.securestore.Error.UnencryptedSession"

    /// The service answered something libsecret's protocol does not allow.
    static func protocolViolation(_ message: String) -> GLibError {
        GLibError(domain: GLibErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue), message: message)
    }

    func `is`(_ domain: GQuark, _ code: UInt32) -> Bool {
        self.domain == domain && self.code == Int32(bitPattern: code)
    }
}

/// Calls `body` with a GError out-parameter and throws the GError it sets, if any.
func withGError<T>(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T) throws(GLibError) -> T {
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
    /// Whether cancelling reaches the GCancellable (see `init(cancelsCalls:)`).
    let cancelsCalls: Bool
    private let timedOutFlag = Atomic(false)
    private let cancelledFlag = Atomic(false)
    private let lastStepStart = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    /// With `cancelsCalls: false`, cancelling only marks the call: libsecret's file backend
    /// (the sandbox keyring) deadlocks when its portal request is cancelled from another thread
    /// (its cancelled handler disconnects itself from inside the emission), so such a call is
    /// abandoned instead (see `SecretServiceBackend.onWorker`).
    init(cancelsCalls: Bool = true) {
        cancellable = g_cancellable_new()
        self.cancelsCalls = cancelsCalls
    }
    deinit { g_object_unref(cancellable) }

    /// Marks the start of one wait on the Secret Service; the timeout counts from here.
    func beginStep() {
        lastStepStart.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Nanoseconds since the current step began.
    var nanosecondsInStep: UInt64 {
        DispatchTime.now().uptimeNanoseconds &- lastStepStart.load(ordering: .relaxed)
    }

    func cancel() {
        cancelledFlag.store(true, ordering: .sequentiallyConsistent)
        if cancelsCalls { g_cancellable_cancel(cancellable) }
    }

    /// Cancels because the timeout passed, which callers report as a timeout, not a cancellation.
    func timeOut() {
        timedOutFlag.store(true, ordering: .sequentiallyConsistent)
        cancel()
    }

    var timedOut: Bool { timedOutFlag.load(ordering: .sequentiallyConsistent) }

    var isCancelled: Bool { cancelledFlag.load(ordering: .sequentiallyConsistent) }

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
    /// An object that is not there: gnome-keyring says UnknownObject or UnknownMethod, and
    /// KeePassXC, for an item deleted meanwhile, UnknownInterface.
    static let unknownObject = [
        G_DBUS_ERROR_UNKNOWN_OBJECT.rawValue, G_DBUS_ERROR_UNKNOWN_METHOD.rawValue, G_DBUS_ERROR_UNKNOWN_INTERFACE.rawValue,
    ]
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
            || error.message == garbledSecret.message || ProviderQuirks.isKWalletsLostSession(error)
    }

    /// A secret the transfer session garbled: one this process could not decrypt, or a write
    /// that read back different bytes. The keys the two sides derived differ; a new connection
    /// negotiates a new session.
    static var garbledSecret: GLibError {
        GLibError(domain: io, code: Int32(bitPattern: G_IO_ERROR_INVALID_DATA.rawValue),
                  message: "The Secret Service's transfer session garbled a secret (its key exchange failed)")
    }

    static func isTimeout(_ error: GLibError) -> Bool {
        error.is(io, ioTimedOut) || (error.domain == dbus && dbusTimeouts.contains(UInt32(bitPattern: error.code)))
    }

    /// The item (or its collection) is gone: deleted meanwhile, or no such keyring.
    static func isNoSuchObject(_ error: GLibError) -> Bool {
        error.is(secret, noSuchObject) || (error.domain == dbus && unknownObject.contains(UInt32(bitPattern: error.code)))
            || ProviderQuirks.isKWalletsMissingItem(error)
    }
}

/// A connection to the Secret Service: libsecret's `SecretService` proxy with an open transfer
/// session. Owns the proxy and releases it in `deinit`.
///
/// Its synchronous methods (libsecret's `*_sync` calls) block on D-Bus: call them only on
/// ``BlockingWorkers``. Its `async` methods block no thread (see `callEach`). libsecret's proxy
/// is a `GDBusProxy`, which may be used from several threads at once.
final class SecretServiceConnection: @unchecked Sendable {
    private let service: UnsafeMutablePointer<SecretService>
    /// Takes the replies to calls made without waiting (see `callEach`).
    private var replies: ReplyRouter { ReplyRouter.shared }

    private var proxy: UnsafeMutablePointer<GDBusProxy> {
        UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)
    }

    private var bus: OpaquePointer { g_dbus_proxy_get_connection(proxy) }

    /// The only transfer session SecureStore accepts: Diffie-Hellman key agreement, then AES.
    static let encryptedTransfer = "dh-ietf1024-sha256-aes128-cbc-pkcs7"

    /// Which program serves the Secret Service, for the places where providers differ.
    let provider: SecretServiceProvider

    /// Connects to the Secret Service on the session bus and opens a transfer session.
    init(cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let service = try withGError {
            secret_service_open_sync(secret_service_get_type(), nil, SECRET_SERVICE_NONE, cancellation.cancellable, $0)
        }
        guard let service else {
            throw GLibError(domain: GLibErrors.io, code: Int32(bitPattern: G_IO_ERROR_FAILED.rawValue),
                            message: "libsecret returned no Secret Service proxy")
        }
        self.service = service
        let proxy = UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)
        // libsecret calls the service through this proxy with its default timeout, which GDBus
        // sets to 25 s: it would cut a longer store timeout short. The call's watchdog keeps
        // the store's own. (Only the proxy's first property load, above, keeps GDBus's 25 s.)
        g_dbus_proxy_set_default_timeout(proxy, Self.waitForever)
        cancellation.beginStep()
        _ = try withGError { secret_service_ensure_session_sync(service, cancellation.cancellable, $0) }
        // libsecret falls back to a plain session, secrets in clear on the bus, when the service
        // offers no encryption: refused before any secret is sent or received.
        let algorithm = secret_service_get_session_algorithms(service).map { String(cString: $0) } ?? "none"
        guard algorithm == Self.encryptedTransfer else {
            g_object_unref(service)
            throw GLibError.unencryptedSession(algorithm)
        }
        let bus = g_dbus_proxy_get_connection(proxy)!
        // GLib's shared session-bus connection exits the process when the bus goes away;
        // a library must not.
        g_dbus_connection_set_exit_on_close(bus, 0)
        provider = SecretServiceProvider(processName: Self.processName(ofNameOwner: "org.freedesktop.secrets", on: bus, cancellation))
        ReplyRouter.shared.install(on: bus)
        // Without the signals nothing tells who owns the service, so no reply could be trusted.
        guard SecretServiceSignals.watch(bus, cancellation) else {
            throw GLibError(domain: GLibErrors.dbus, code: Int32(bitPattern: G_DBUS_ERROR_LIMITS_EXCEEDED.rawValue),
                            message: "The session bus refused to deliver the Secret Service's signals")
        }
        remembersItemPaths = ProviderQuirks.signalsAnnounceEveryChange(provider)
    }

    /// Whether `itemPaths` may be used: the bus delivers the service's change signals, and the
    /// provider sends one for every change.
    let remembersItemPaths: Bool
    /// The item paths `getItem` found by key (never values), for reading in one round trip.
    let itemPaths = ItemPathMemory()

    /// Makes sure the session bus delivers the Secret Service's change signals to the message
    /// filter, also while no service runs (so its start is heard). `false` when the bus refused
    /// the match rules. Blocks: call it on ``BlockingWorkers``.
    static func watchSignals(_ cancellation: GCancellation) throws(GLibError) -> Bool {
        cancellation.beginStep()
        let bus = try withGError { g_bus_get_sync(G_BUS_TYPE_SESSION, cancellation.cancellable, $0) }
        guard let bus else { throw GLibError.protocolViolation("No session bus") }
        defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
        g_dbus_connection_set_exit_on_close(bus, 0)   // as in init: a library must not exit
        ReplyRouter.shared.install(on: bus)
        return SecretServiceSignals.watch(bus, cancellation)
    }

    /// The name (`/proc/PID/comm`) of the process that owns `name` on `bus`, or `nil` when the
    /// bus does not say (then the provider counts as unknown).
    private static func processName(ofNameOwner name: String, on bus: OpaquePointer, _ cancellation: GCancellation) -> String? {
        cancellation.beginStep()
        guard let reply = try? withGError({
            g_dbus_connection_call_sync(
                bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                tuple([g_variant_new_string(name)]), nil, G_DBUS_CALL_FLAGS_NONE, waitForever, cancellation.cancellable, $0)
        }) else { return nil }
        defer { g_variant_unref(reply) }
        guard String(cString: g_variant_get_type_string(reply)) == "(u)" else { return nil }
        let child = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(child) }
        return SecretServiceProvider.processName(pid: g_variant_get_uint32(child))
    }

    deinit {
        g_object_unref(service)
    }

    /// The paths of items whose attributes include all of `attributes`, unlocked and locked.
    func searchItems(_ attributes: [String: String], cancellation: GCancellation) throws(GLibError) -> (unlocked: [String], locked: [String]) {
        let reply = try callSync(Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems",
                                 tuple([makeStringDictionary(attributes)]), replyType: "(aoao)", cancellation)
        defer { g_variant_unref(reply) }
        return (objectPaths(g_variant_get_child_value(reply, 0)), objectPaths(g_variant_get_child_value(reply, 1)))
    }

    /// The secret of the item at `path`, its bytes exactly; `nil` when the service returns none
    /// (the item is locked). A secret this session cannot decrypt throws (see `decodeSecrets`).
    func secret(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> SecretBytes? {
        let reply = try callSync(Self.servicePath, "org.freedesktop.Secret.Service", "GetSecrets",
                                 try getSecretsArguments([path]), replyType: "(a{o(oayays)})", autoStart: false, cancellation)
        defer { g_variant_unref(reply) }
        return try Self.decodeSecrets(reply, of: [path], service: ServicePointer(pointer: service))[path]
    }

    /// Calls `method` and waits for its reply, blocking the thread, with no D-Bus timeout of
    /// its own: GDBus's default (25 s) would cut a longer store timeout short, and the call's
    /// watchdog ends it at the store's timeout. Returns the reply body, of type `replyType`.
    private func callSync(
        _ path: String, _ interface: String, _ method: String, _ arguments: OpaquePointer, replyType: String,
        autoStart: Bool = true, _ cancellation: GCancellation
    ) throws(GLibError) -> OpaquePointer {
        cancellation.beginStep()
        let flags = autoStart ? G_DBUS_CALL_FLAGS_NONE : G_DBUS_CALL_FLAGS_NO_AUTO_START
        let reply = try withGError {
            g_dbus_connection_call_sync(bus, g_dbus_proxy_get_name(proxy), path, interface, method, arguments, nil,
                                        flags, Self.waitForever, cancellation.cancellable, $0)
        }
        guard let reply else { throw GLibError.protocolViolation("\(method) returned no reply") }
        guard String(cString: g_variant_get_type_string(reply)) == replyType else {
            g_variant_unref(reply)
            throw GLibError.protocolViolation("\(method) replied with something other than \(replyType)")
        }
        return reply
    }

    /// A D-Bus timeout that never ends first: the watchdog of each call keeps the store's own.
    private static let waitForever = G_MAXINT

    /// `GetSecrets`' arguments for `paths` in this connection's transfer session.
    private func getSecretsArguments(_ paths: [String]) throws(GLibError) -> OpaquePointer {
        guard let session = secret_service_get_session_dbus_path(service).map({ String(cString: $0) }) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        return tuple([objectPathArray(paths), g_variant_new_object_path(session)])
    }

    /// The secrets in a `GetSecrets` reply, by path. An item the reply leaves out (locked, or
    /// gone) has none. One it holds that this session cannot decrypt throws
    /// `GLibErrors.garbledSecret`: the two sides derived different keys (KWallet before
    /// 6.25), which must never read as "no such item".
    private static func decodeSecrets(_ reply: OpaquePointer, of paths: [String], service: ServicePointer) throws(GLibError) -> [String: SecretBytes] {
        let secrets = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(secrets) }
        var values: [String: SecretBytes] = [:]
        for path in paths {
            guard let encoded = g_variant_lookup_value(secrets, path, nil) else { continue }
            defer { g_variant_unref(encoded) }
            guard let value = secret_service_decode_dbus_secret(service.pointer, encoded).flatMap(takeSecret) else {
                throw GLibErrors.garbledSecret
            }
            values[path] = value
        }
        return values
    }

    /// Creates an item in the collection at `collectionPath`, or, with `replace` and one with
    /// exactly these attributes there, replaces its label and secret. Returns the item's path.
    func createItem(
        inCollection collectionPath: String, label: String, attributes: [String: String], value: [UInt8],
        contentType: String, replace: Bool, cancellation: GCancellation
    ) throws(GLibError) -> String {
        cancellation.beginStep()
        let secretValue = makeSecretValue(value, contentType: contentType)
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
                service, collectionPath, properties, secretValue, replace ? SECRET_ITEM_CREATE_REPLACE : SECRET_ITEM_CREATE_NONE,
                cancellation.cancellable, $0)
        }
        return takeString(path) ?? ""
    }

    /// Replaces the secret of the item at `path` (`Item.SetSecret`), keeping its attributes and
    /// label: an overwrite that is no `CreateItem` (see `SecretServiceBackend.write`).
    func setSecret(ofItemAt path: String, value: [UInt8], contentType: String, cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let secretValue = makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        guard let encoded = secret_service_encode_dbus_secret(service, secretValue) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        let reply = try withGError {
            g_dbus_connection_call_sync(
                bus, g_dbus_proxy_get_name(proxy), path, "org.freedesktop.Secret.Item", "SetSecret", tuple([encoded]), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        reply.map { g_variant_unref($0) }
    }

    /// The attributes of the item at `path`.
    func attributes(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> [String: String] {
        guard let dictionary = try property("org.freedesktop.Secret.Item", "Attributes", at: path, cancellation: cancellation) else {
            return [:]
        }
        defer { g_variant_unref(dictionary) }
        return Self.stringDictionary(dictionary)
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

    /// Whether the collection at `path` (an alias path such as
    /// `/org/freedesktop/secrets/aliases/default` works too) is locked. A collection that does
    /// not exist (an alias that names none: a fresh account has no login keyring yet) is not:
    /// it hides nothing.
    func isLocked(collectionAt path: String, cancellation: GCancellation) throws(GLibError) -> Bool {
        do {
            return takeLockedFlag(try property("org.freedesktop.Secret.Collection", "Locked", at: path, cancellation: cancellation))
        } catch where GLibErrors.isNoSuchObject(error) {
            return false
        }
    }

    /// Creates a collection (the service asks the user for its password, with its own dialog)
    /// and gives it `alias`.
    func createCollection(label: String, alias: String, cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let collection = try withGError {
            secret_collection_create_sync(service, label, alias, SECRET_COLLECTION_CREATE_NONE, cancellation.cancellable, $0)
        }
        guard let collection else {
            throw GLibError.protocolViolation("The Secret Service created no collection")
        }
        g_object_unref(collection)
    }

    /// One D-Bus property of the object at `path`, unboxed; the caller unrefs it.
    private func property(_ interface: String, _ name: String, at path: String, cancellation: GCancellation) throws(GLibError) -> OpaquePointer? {
        cancellation.beginStep()
        let reply = try withGError {
            g_dbus_connection_call_sync(
                g_dbus_proxy_get_connection(proxy), g_dbus_proxy_get_name(proxy), path,
                "org.freedesktop.DBus.Properties", "Get", propertyGetParameters(interface, name), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        return unboxPropertyReply(reply)
    }

    // MARK: - Calls that block no thread

    /// The paths of items whose attributes include all of `attributes`, unlocked and locked,
    /// found without blocking a thread (see `call`).
    func searchItems(_ attributes: [String: String], timeout: Duration) async throws -> (unlocked: [String], locked: [String]) {
        try await call(Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems",
                       tuple([makeStringDictionary(attributes)]), replyType: "(aoao)", timeout: timeout) { body in
            (objectPaths(g_variant_get_child_value(body, 0)), objectPaths(g_variant_get_child_value(body, 1)))
        }
    }

    /// The secrets of the unlocked items at `paths`, their bytes exactly, by path; items locked
    /// or gone meanwhile are left out, and one this session cannot decrypt throws (see
    /// `decodeSecrets`). Blocks no thread (see `call`).
    func secrets(ofItemsAt paths: [String], timeout: Duration) async throws -> [String: SecretBytes] {
        let service = ServicePointer(pointer: service)
        // Like libsecret's own lookup: GetSecrets, and no auto-start (a new daemon has no session).
        return try await call(Self.servicePath, "org.freedesktop.Secret.Service", "GetSecrets", try getSecretsArguments(paths),
                              replyType: "(a{o(oayays)})", autoStart: false, timeout: timeout) { body throws(GLibError) in
            try Self.decodeSecrets(body, of: paths, service: service)
        }
    }

    /// The collection path behind an alias such as `default`, or `nil` when the alias is unset,
    /// asked without blocking a thread (see `call`).
    func collectionPath(forAlias alias: String, timeout: Duration) async throws -> String? {
        try await call(Self.servicePath, "org.freedesktop.Secret.Service", "ReadAlias",
                       tuple([g_variant_new_string(alias)]), replyType: "(o)", timeout: timeout) { body in
            let path = g_variant_get_child_value(body, 0)
            defer { g_variant_unref(path) }
            let string = String(cString: g_variant_get_string(path, nil))
            return string == "/" ? nil : string   // the service's "no such alias"
        }
    }

    /// Whether the collection at `path` (an alias path works too) is locked, asked without
    /// blocking a thread (see `call`). One that does not exist is not (see the blocking variant).
    func isLocked(collectionAt path: String, timeout: Duration) async throws -> Bool {
        do {
            return try await call(path, "org.freedesktop.DBus.Properties", "Get",
                                  propertyGetParameters("org.freedesktop.Secret.Collection", "Locked"), replyType: "(v)", timeout: timeout) { body in
                takeLockedFlag(unboxPropertyReply(g_variant_ref(body)))
            }
        } catch let error as GLibError where GLibErrors.isNoSuchObject(error) {
            return false
        }
    }

    /// The attributes of the items at `paths`, by path: one D-Bus property call per item (no
    /// item proxies, no unlocking: attributes are readable while a collection is locked), all
    /// sent at once, so the lot costs about one round trip's wait. With `only`, just that
    /// attribute is decoded. Items that vanished meanwhile are left out. Blocks no thread.
    func attributes(ofItemsAt paths: [String], only name: String? = nil, timeout: Duration) async throws -> [String: [String: String]] {
        let replies = try await callEach(
            paths.map { ($0, propertyGetParameters("org.freedesktop.Secret.Item", "Attributes")) },
            "org.freedesktop.DBus.Properties", "Get", replyType: "(v)", timeout: timeout
        ) { body throws(GLibError) -> [String: String] in
            guard let dictionary = unboxPropertyReply(g_variant_ref(body)) else { return [:] }
            defer { g_variant_unref(dictionary) }
            return Self.stringDictionary(dictionary, only: name)
        }
        var attributes: [String: [String: String]] = [:]
        for (path, reply) in zip(paths, replies) {
            switch reply {
            case .success(let found): attributes[path] = found
            case .failure(let error) where GLibErrors.isNoSuchObject(error): continue   // deleted since the search
            case .failure(let error): throw error
            }
        }
        return attributes
    }

    private static let servicePath = "/org/freedesktop/secrets"

    /// libsecret's SecretService is thread-safe; decoding a secret only reads its session.
    private struct ServicePointer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<SecretService>
    }

    /// Calls `method` on the object at `path` without blocking any thread (see `callEach`).
    private func call<T: Sendable>(
        _ path: String, _ interface: String, _ method: String, _ arguments: OpaquePointer, replyType: String,
        autoStart: Bool = true, timeout: Duration, decode: @escaping @Sendable (OpaquePointer) throws(GLibError) -> T
    ) async throws -> T {
        try await callEach([(path, arguments)], interface, method, replyType: replyType, autoStart: autoStart,
                           timeout: timeout, decode: decode)[0].get()
    }

    /// Calls `method` on each object of `calls`, with its arguments (a floating `GVariant` tuple,
    /// which the call takes), without blocking any thread: the messages are queued on the bus
    /// connection all at once, and a message filter on GDBus's own I/O thread takes each reply,
    /// checks that its body has the type `replyType`, and runs `decode` on it there. The task
    /// resumes when every call has its reply or error, in the order of `calls`. Throws a GLib
    /// timeout error once `timeout` passes without any reply, and `CancellationError` when the
    /// task is cancelled.
    private func callEach<T: Sendable>(
        _ calls: [(path: String, arguments: OpaquePointer)], _ interface: String, _ method: String, replyType: String,
        autoStart: Bool = true, timeout: Duration, decode: @escaping @Sendable (OpaquePointer) throws(GLibError) -> T
    ) async throws -> [Result<T, GLibError>] {
        let messages = calls.map { call in
            let message = g_dbus_message_new_method_call(g_dbus_proxy_get_name(proxy), call.path, interface, method)!
            g_dbus_message_set_body(message, call.arguments)
            if !autoStart { g_dbus_message_set_flags(message, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START) }
            return message
        }
        defer { messages.forEach { g_object_unref(UnsafeMutableRawPointer($0)) } }
        guard !messages.isEmpty else { return [] }
        try Task.checkCancellation()
        let pending = PendingReplies<T>(count: messages.count, router: replies)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                pending.attach(continuation)
                do {
                    let sent = try replies.send(messages, on: bus) { index in
                        { reply in
                            pending.receive(Result { () throws(GLibError) -> T in
                                guard let body = try reply.get(), String(cString: g_variant_get_type_string(body)) == replyType else {
                                    throw GLibError.protocolViolation("\(method) replied with something other than \(replyType)")
                                }
                                return try decode(body)
                            }, at: index)
                        }
                    }
                    pending.start(calls: sent, timeout: timeout)
                } catch {
                    pending.fail(error)
                }
            }
        } onCancel: {
            pending.fail(CancellationError())
        }
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

    /// A floating `a{ss}` of `dictionary`, sorted by name.
    private func makeStringDictionary(_ dictionary: [String: String]) -> OpaquePointer {
        var entries: [OpaquePointer?] = dictionary.sorted { $0.key < $1.key }.map { name, value in
            g_variant_new_dict_entry(g_variant_new_string(name), g_variant_new_string(value))
        }
        let type = g_variant_type_new("{ss}")
        defer { g_variant_type_free(type) }
        return g_variant_new_array(type, &entries, gsize(entries.count))
    }
}

private func withNullTerminatedStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<gchar>?>) throws(GLibError) -> R) throws(GLibError) -> R {
    let copies = strings.map { g_strdup($0) }
    defer { copies.forEach { g_free($0) } }
    var pointers = copies.map { UnsafePointer($0) } + [nil]
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(GLibError) in try body(buffer.baseAddress!) }
}

/// The `(ss)` arguments of `org.freedesktop.DBus.Properties.Get`.
func propertyGetParameters(_ interface: String, _ name: String) -> OpaquePointer {
    var children = [g_variant_new_string(interface), g_variant_new_string(name)]
    return g_variant_new_tuple(&children, 2)
}

/// The value inside a `Properties.Get` reply `(v)`, which the caller unrefs; takes `reply`.
func unboxPropertyReply(_ reply: OpaquePointer?) -> OpaquePointer? {
    guard let reply else { return nil }
    defer { g_variant_unref(reply) }
    let boxed = g_variant_get_child_value(reply, 0)
    defer { g_variant_unref(boxed) }
    return g_variant_get_variant(boxed)
}

/// A new `SecretValue` holding exactly `value` (NULs included), copied by libsecret into its
/// wiping memory; the caller unrefs it.
func makeSecretValue(_ value: [UInt8], contentType: String) -> OpaquePointer {
    value.withUnsafeBufferPointer { bytes in
        let start = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: gchar.self) }
        return "".withCString { empty in
            secret_value_new(start ?? empty, gssize(bytes.count), contentType)
        }
    }
}

/// Takes ownership of a `SecretValue` and returns its bytes, exactly (NULs and bytes that are
/// not UTF-8 included: whether they make a string is for the caller to decide).
/// `secret_value_unref` wipes libsecret's copy (egg-secure memory) before freeing it.
func takeSecret(_ value: OpaquePointer) -> SecretBytes? {
    defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
    var length: gsize = 0
    guard let bytes = secret_value_get(value, &length) else { return nil }
    return SecretBytes(Array(UnsafeRawBufferPointer(start: bytes, count: Int(length))))
}

/// Whether a collection's `Locked` property value, which it takes, says it is locked.
private func takeLockedFlag(_ locked: OpaquePointer?) -> Bool {
    guard let locked else { return false }
    defer { g_variant_unref(locked) }
    return String(cString: g_variant_get_type_string(locked)) == "b" && g_variant_get_boolean(locked) != 0
}

/// Takes ownership of a `gchar*` and returns it as a `String`.
func takeString(_ string: UnsafeMutablePointer<gchar>?) -> String? {
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

/// A floating `GVariant` tuple of `children` (floating references, which it takes).
func tuple(_ children: [OpaquePointer?]) -> OpaquePointer {
    var children = children
    return g_variant_new_tuple(&children, gsize(children.count))
}

/// A floating `ao` of `paths`.
private func objectPathArray(_ paths: [String]) -> OpaquePointer {
    var elements: [OpaquePointer?] = paths.map { g_variant_new_object_path($0) }
    let type = g_variant_type_new("o")
    defer { g_variant_type_free(type) }
    return g_variant_new_array(type, &elements, gsize(elements.count))
}

/// The paths in an `ao` variant, which it takes.
private func objectPaths(_ array: OpaquePointer) -> [String] {
    defer { g_variant_unref(array) }
    return (0..<g_variant_n_children(array)).map { index in
        let path = g_variant_get_child_value(array, index)
        defer { g_variant_unref(path) }
        return String(cString: g_variant_get_string(path, nil))
    }
}

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
private final class ReplyRouter: Sendable {
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

    /// Adds the filter to `bus` unless it has it already.
    func install(on bus: OpaquePointer) {
        let object = UnsafeMutablePointer<GObject>(bus)
        installing.withLock { _ in
            guard g_object_get_data(object, Self.installedKey) == nil else { return }
            _ = g_dbus_connection_add_filter(bus, Self.filter, nil, nil)
            g_object_set_data(object, Self.installedKey, UnsafeMutableRawPointer(bitPattern: 1))
        }
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

/// The replies a batch of calls waits for, and its continuation, resumed exactly once: when the
/// last reply is in, when no reply has come for the timeout, or on cancellation, whichever
/// comes first (even before the continuation is attached).
private final class PendingReplies<T: Sendable>: Sendable {
    typealias Replies = [Result<T, GLibError>]
    typealias Waiter = CheckedContinuation<Replies, any Error>

    private struct State {
        var continuation: Waiter?
        var results: [Result<T, GLibError>?]
        var outstanding: Int
        /// Set once the outcome is decided; `early` holds it until a continuation is attached.
        var ended = false
        var early: Result<Replies, any Error>?
        var calls: [ReplyRouter.Call] = []
        var lastProgress = DispatchTime.now()
        var watchdog: Watchdog?
    }

    private let state: Locked<State>
    private let router: ReplyRouter

    init(count: Int, router: ReplyRouter) {
        state = Locked(State(results: Array(repeating: nil, count: count), outstanding: count))
        self.router = router
    }

    func attach(_ continuation: Waiter) {
        let early = state.withLock { state in
            if state.early == nil { state.continuation = continuation }
            return state.early
        }
        if let early { continuation.resume(with: early) }
    }

    /// Starts the timeout once the calls are on their way: it ends the batch when no reply has
    /// come for `timeout` (many replies may take longer in all).
    func start(calls: [ReplyRouter.Call], timeout: Duration) {
        // Its closures hold self until the batch ends and stops it (see `end`).
        let watchdog = Watchdog(timeout: timeout, idleNanoseconds: {
            self.state.withLock { DispatchTime.now().uptimeNanoseconds - $0.lastProgress.uptimeNanoseconds }
        }) {
            self.fail(GLibError(domain: GLibErrors.io, code: Int32(bitPattern: GLibErrors.ioTimedOut),
                                message: "The Secret Service did not answer in time"))
        }
        let ended = state.withLock { state in
            state.calls = calls
            state.lastProgress = .now()
            if !state.ended { state.watchdog = watchdog }
            return state.ended
        }
        if ended {
            watchdog.stop()
            router.remove(calls)
        }
    }

    func receive(_ result: Result<T, GLibError>, at index: Int) {
        let finished: Replies? = state.withLock { state in
            guard !state.ended, state.results[index] == nil else { return nil }
            state.results[index] = result
            state.outstanding -= 1
            state.lastProgress = .now()
            guard state.outstanding == 0 else { return nil }
            return state.results.map { $0! }
        }
        if let finished { end(.success(finished)) }
    }

    func fail(_ error: any Error) {
        end(.failure(error))
    }

    private func end(_ outcome: Result<Replies, any Error>) {
        let (continuation, calls, watchdog) = state.withLock { state -> (Waiter?, [ReplyRouter.Call], Watchdog?) in
            guard !state.ended else { return (nil, [], nil) }
            state.ended = true
            if state.continuation == nil { state.early = outcome }
            defer {
                state.continuation = nil
                state.watchdog = nil
            }
            return (state.continuation, state.calls, state.watchdog)
        }
        watchdog?.stop()
        if case .failure = outcome { router.remove(calls) }
        continuation?.resume(with: outcome)
    }
}
#endif
