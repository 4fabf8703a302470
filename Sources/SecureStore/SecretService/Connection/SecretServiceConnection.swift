#if canImport(CLibSecret)
import Logging
import CLibSecret
import Synchronization

/// A connection to the Secret Service: libsecret's `SecretService` proxy with an open transfer
/// session. Owns the proxy and releases it in `deinit`.
///
/// Its synchronous methods (libsecret's `*_sync` calls) block on D-Bus: call them only on
/// ``BlockingWorkers``. Its `async` methods block no thread (see `callEach`). libsecret's proxy
/// is a `GDBusProxy`, which may be used from several threads at once.
final class SecretServiceConnection: @unchecked Sendable {
    let service: UnsafeMutablePointer<SecretService>
    /// Takes the replies to calls made without waiting (see `callEach`).
    var replies: ReplyRouter { ReplyRouter.shared }

    var proxy: UnsafeMutablePointer<GDBusProxy> {
        UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)
    }

    var bus: OpaquePointer { g_dbus_proxy_get_connection(proxy) }

    /// The alias of the default collection, where items are written: the login keyring.
    static let defaultAlias = "default"
    /// The default collection by its alias path, which the service accepts in place of the
    /// collection's own (which `collectionPath(forAlias:)` tells, for calls that need it).
    static let defaultCollection = "/org/freedesktop/secrets/aliases/default"

    /// The only transfer session SecureStore accepts: Diffie-Hellman key agreement, then AES.
    static let encryptedTransfer = "dh-ietf1024-sha256-aes128-cbc-pkcs7"

    /// Which program serves the Secret Service, for the places where providers differ.
    let provider: SecretServiceProvider

    /// The unique name of the daemon this connection's transfer session was opened with.
    let openedWith: String?
    /// The process ID of the service's owner, as the bus gave it (in the bus's PID namespace).
    let ownerProcessID: UInt32?

    /// Where this connection's own calls go: the unique name of the daemon its transfer session
    /// was opened with. A daemon that took the service's name since (during a dialog, say)
    /// never receives this session's path, which it may have given to another client (KWallet
    /// numbers sessions from 1); the old one answers, or the bus says it is gone.
    var destination: String { openedWith ?? ServiceOwners.serviceName }

    /// Whether the daemon the session was opened with still owns the service. A new daemon
    /// knows nothing of the session, and may even have one of its own at the same path (KWallet
    /// numbers them from 1), so a connection is used only with its own daemon.
    var servesCurrentOwner: Bool {
        openedWith != nil && ServiceOwners.owner(on: bus) == openedWith
    }

    /// Connects to the Secret Service on the session bus and opens a transfer session.
    init(cancellation: GCancellation) throws(GLibError) {
        let bus = try Self.sessionBus(cancellation)
        defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
        // The signals' rules, the service's owner and its program are asked while the proxy
        // opens, so that their round trip hides behind the proxy's.
        let remembers = Self.remembersBetweenCalls.load(ordering: .relaxed)
        let (service, watching, replies) = try SecretServiceSignals.watch(
            bus, cancellation, selecting: remembers ? .all : .owner, alongWith: Self.providerQuestions
        ) { () throws(GLibError) in try Self.openService(on: bus, cancellation) }
        self.service = service
        openedWith = g_dbus_proxy_get_name_owner(UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)).map { owner in
            defer { g_free(owner) }
            return String(cString: owner)
        }
        // A service the open started had no owner when first asked: asked again.
        var providerAnswers = replies
        if case .failure = providerAnswers[0] {
            providerAnswers.forEach { if case .success(let body) = $0 { g_variant_unref(body) } }
            providerAnswers = callTogether(Self.providerQuestions, on: bus, cancellation)
        }
        ownerProcessID = Self.processID(fromAnswer: providerAnswers[0])
        provider = SecretServiceProvider(
            serviceOwner: openedWith, busNameOwners: providerAnswers.dropFirst().map(Self.string(fromAnswer:)),
            processName: ownerProcessID.flatMap(SecretServiceProvider.processName(pid:)))
        watchesAllSignals = remembers
        remembersItemPaths = remembers
            && (ProviderQuirks.signalsAnnounceEveryChange(provider) || ProviderQuirks.rememberedReadsCheckAttributes(provider))
        remembersLockState = remembers && ProviderQuirks.signalsAnnounceLockChanges(provider)
        // Without the signals nothing tells who owns the service, so no reply could be trusted.
        // Checked once every property is set, so that deinit releases the proxy.
        guard watching else {
            throw GLibError(domain: GLibError.dbus, code: Int32(bitPattern: G_DBUS_ERROR_LIMITS_EXCEEDED.rawValue),
                            message: "The session bus refused to deliver the Secret Service's signals")
        }
    }

    /// libsecret's proxy for the Secret Service on `bus`, with an encrypted transfer session
    /// open; released again if anything fails.
    private static func openService(on bus: OpaquePointer, _ cancellation: GCancellation) throws(GLibError) -> UnsafeMutablePointer<SecretService> {
        cancellation.beginStep()
        let service = try withGError {
            secret_service_open_sync(secret_service_get_type(), nil, SECRET_SERVICE_NONE, cancellation.cancellable, $0)
        }
        guard let service else {
            throw GLibError(domain: GLibError.io, code: Int32(bitPattern: G_IO_ERROR_FAILED.rawValue),
                            message: "libsecret returned no Secret Service proxy")
        }
        do throws(GLibError) {
            let proxy = UnsafeMutableRawPointer(service).assumingMemoryBound(to: GDBusProxy.self)
            // The filter and the signals' rules are on `bus`: a proxy on another connection
            // would have neither.
            guard g_dbus_proxy_get_connection(proxy) == bus else {
                throw GLibError.protocolViolation("libsecret opened the Secret Service on another bus connection")
            }
            // libsecret calls the service through this proxy with its default timeout, which
            // GDBus sets to 25 s: it would cut a longer store timeout short. The call's watchdog
            // keeps the store's own. (Only the proxy's first property load keeps GDBus's 25 s.)
            g_dbus_proxy_set_default_timeout(proxy, waitForever)
            cancellation.beginStep()
            _ = try withGError { secret_service_ensure_session_sync(service, cancellation.cancellable, $0) }
            // libsecret falls back to a plain session, secrets in clear on the bus, when the
            // service offers no encryption: refused before any secret is sent or received.
            let algorithm = secret_service_get_session_algorithms(service).map { String(cString: $0) } ?? "none"
            guard algorithm == encryptedTransfer else { throw GLibError.unencryptedSession(algorithm) }
            return service
        } catch {
            g_object_unref(service)
            throw error
        }
    }

    /// Whether connections opened from now on remember item paths and lock states, and so
    /// watch the service's change signals that keep those memories true (see
    /// `SecretServiceBackend.rememberNothingBetweenCalls()`).
    static let remembersBetweenCalls = Atomic(true)

    /// Whether `itemPaths` may be used: the bus delivers the service's change signals, and the
    /// provider sends one for every change in time, or its remembered reads check attributes.
    let remembersItemPaths: Bool
    /// Whether the bus has all the signal rules (`SecretServiceSignals.Selection.all`), not only
    /// the owner's: what memories, streams and `runPrompt` need.
    let watchesAllSignals: Bool
    /// The item paths `getItem` found by key (never values), for reading in one round trip.
    let itemPaths = ItemPathMemory()
    /// Whether `lockState` may be used: the provider announces every lock and unlock.
    let remembersLockState: Bool

    /// What a log message says of this connection: the provider, its daemon, the quirks that
    /// apply and what is remembered between calls.
    var loggedMetadata: Logger.Metadata {
        [
            LogKey.provider: "\(provider)", LogKey.owner: "\(openedWith ?? "none")",
            LogKey.ownerProcessID: "\(ownerProcessID.map(String.init) ?? "unknown")",
            LogKey.quirks: "\(ProviderQuirks.names(for: provider).joined(separator: ","))",
            LogKey.remembers: "\(remembersItemPaths ? "item paths" : "nothing")\(remembersLockState ? ", lock state" : "")",
        ]
    }
    /// Whether the default collection is locked, for misses in one round trip.
    let lockState = LockStateMemory()
    /// The service's collections as last listed, for searches that must not be held (see
    /// `searchItemsUnlessLocked`); each use checks the list again.
    let collectionPaths = Locked<[String]?>(nil)

    /// Makes sure the session bus delivers the Secret Service's change signals to the message
    /// filter, also while no service runs (so its start is heard), for as long as the returned
    /// connection is held. `nil` when the bus refused the match rules. Blocks: call it on
    /// ``BlockingWorkers``.
    static func watchSignals(_ cancellation: GCancellation) throws(GLibError) -> HeldBusConnection? {
        let held = HeldBusConnection(taking: try sessionBus(cancellation))
        return SecretServiceSignals.watch(held.bus, cancellation) ? held : nil
    }

    /// GLib's shared session-bus connection (a reference the caller releases), with the reply
    /// filter on it. Blocks: call it on ``BlockingWorkers``.
    private static func sessionBus(_ cancellation: GCancellation) throws(GLibError) -> OpaquePointer {
        cancellation.beginStep()
        let bus = try withGError { g_bus_get_sync(G_BUS_TYPE_SESSION, cancellation.cancellable, $0) }
        guard let bus else { throw GLibError.protocolViolation("No session bus") }
        // It exits the process when the bus goes away; a library must not.
        g_dbus_connection_set_exit_on_close(bus, 0)
        ReplyRouter.shared.install(on: bus)
        return bus
    }

    /// The calls that tell the provider: the process ID of the service's owner, then the owner
    /// of each of ``SecretServiceProvider/busNames``.
    static let providerQuestions = [BusCall(method: "GetConnectionUnixProcessID", argument: ServiceOwners.serviceName, replyType: "(u)")]
        + SecretServiceProvider.busNames.map { BusCall(method: "GetNameOwner", argument: $0.name, replyType: "(s)") }

    /// The process ID an answer to `GetConnectionUnixProcessID` names, or `nil` when the bus
    /// did not say. Releases the answer.
    static func processID(fromAnswer answer: Result<OpaquePointer, GLibError>) -> UInt32? {
        guard case .success(let reply) = answer else { return nil }
        defer { g_variant_unref(reply) }
        let child = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(child) }
        return g_variant_get_uint32(child)
    }

    /// The string an answer of type `(s)` holds, or `nil` for an error (a name with no owner).
    /// Releases the answer.
    static func string(fromAnswer answer: Result<OpaquePointer, GLibError>) -> String? {
        guard case .success(let reply) = answer else { return nil }
        defer { g_variant_unref(reply) }
        let child = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(child) }
        return String(cString: g_variant_get_string(child, nil))
    }

    deinit {
        g_object_unref(service)
    }

    /// The paths of items whose attributes include all of `attributes`, unlocked and locked.
    func searchItems(_ attributes: [String: String], cancellation: GCancellation) throws(GLibError) -> (unlocked: [String], locked: [String]) {
        let reply = try callSync(Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems",
                                 GLibValues.tuple([makeStringDictionary(attributes)]), replyType: "(aoao)", cancellation)
        defer { g_variant_unref(reply) }
        return (GLibValues.objectPaths(g_variant_get_child_value(reply, 0)), GLibValues.objectPaths(g_variant_get_child_value(reply, 1)))
    }

    /// The secret of the item at `path`, its bytes exactly; `nil` when the service returns none
    /// (the item is locked). A secret this session cannot decrypt throws (see `decodeSecrets`),
    /// as does one read twice with two results on a session not yet verified (see
    /// `checkedAgainstSecondReading`).
    func secret(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> SecretBytes? {
        let read = { () throws(GLibError) -> [String: SecretBytes] in
            let reply = try self.callSync(Self.servicePath, "org.freedesktop.Secret.Service", "GetSecrets",
                                          try self.getSecretsArguments([path]), replyType: "(a{o(oayays)})", autoStart: false, cancellation)
            defer { g_variant_unref(reply) }
            return try Self.decodeSecrets(reply, of: [path], service: ServicePointer(pointer: self.service))
        }
        let first = try read()
        return try checkedAgainstSecondReading(first, mustReadTwice ? try read() : nil)[path]
    }

    // MARK: - A session whose key exchange went wrong

    /// Whether this connection's transfer session is known to share its key with the service:
    /// a write read back equal, or a secret read twice alike. KWallet before 6.25 sometimes
    /// derives another key (see `ProviderQuirks.writesNeedReadBack`), and then one garbled
    /// secret in 256 decrypts to valid padding: a wrong value that nothing else would catch.
    var isSessionVerified: Bool { sessionVerified.load(ordering: .relaxed) }

    private let sessionVerified = Atomic(false)

    func markSessionVerified() { sessionVerified.store(true, ordering: .relaxed) }

    /// Whether secrets must be read twice: on KWallet, until the session is verified.
    var mustReadTwice: Bool { ProviderQuirks.writesNeedReadBack(provider) && !isSessionVerified }

    /// `first`, once `second` (the same items read again, when `mustReadTwice`) agrees with it.
    /// The service encrypts each reading with a new IV, so under a wrong key the two decrypt to
    /// two different garbles: that throws `ServiceErrors.garbledSecret` (a new connection is
    /// opened). Every copy but `first`'s is zeroed.
    func checkedAgainstSecondReading(_ first: [String: SecretBytes], _ second: [String: SecretBytes]?) throws(GLibError) -> [String: SecretBytes] {
        guard let second else { return first }
        defer { second.values.forEach { $0.zero() } }
        guard Self.readingsAgree(first, second) else {
            first.values.forEach { $0.zero() }
            throw ServiceErrors.garbledSecret
        }
        if !first.isEmpty { markSessionVerified() }
        return first
    }

    /// Whether two readings of the same items hold the same items with the same bytes. An item
    /// in one reading only is no agreement: its value was never compared (it may also have
    /// been deleted between the two, and a new connection reads it again).
    static func readingsAgree(_ first: [String: SecretBytes], _ second: [String: SecretBytes]) -> Bool {
        first.count == second.count && first.allSatisfy { path, value in second[path].map { $0.equals(value) } ?? false }
    }

    /// Calls `method` and waits for its reply, blocking the thread, with no D-Bus timeout of
    /// its own: GDBus's default (25 s) would cut a longer store timeout short, and the call's
    /// watchdog ends it at the store's timeout. Returns the reply body, of type `replyType`.
    func callSync(
        _ path: String, _ interface: String, _ method: String, _ arguments: OpaquePointer, replyType: String,
        autoStart: Bool = true, _ cancellation: GCancellation
    ) throws(GLibError) -> OpaquePointer {
        cancellation.beginStep()
        let flags = autoStart ? G_DBUS_CALL_FLAGS_NONE : G_DBUS_CALL_FLAGS_NO_AUTO_START
        let reply = try withGError {
            g_dbus_connection_call_sync(bus, destination, path, interface, method, arguments, nil,
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
    static let waitForever = G_MAXINT

    /// `GetSecrets`' arguments for `paths` in this connection's transfer session.
    func getSecretsArguments(_ paths: [String]) throws(GLibError) -> OpaquePointer {
        guard let session = secret_service_get_session_dbus_path(service).map({ String(cString: $0) }) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        return GLibValues.tuple([GLibValues.objectPathArray(paths), g_variant_new_object_path(session)])
    }

    /// The secrets in a `GetSecrets` reply, by path. An item the reply leaves out (locked, or
    /// gone) has none. One it holds that this session cannot decrypt throws
    /// `ServiceErrors.garbledSecret`: the two sides derived different keys (KWallet before
    /// 6.25), which must never read as "no such item".
    static func decodeSecrets(_ reply: OpaquePointer, of paths: [String], service: ServicePointer) throws(GLibError) -> [String: SecretBytes] {
        let secrets = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(secrets) }
        var values: [String: SecretBytes] = [:]
        for path in paths {
            guard let encoded = g_variant_lookup_value(secrets, path, nil) else { continue }
            defer { g_variant_unref(encoded) }
            guard let value = secret_service_decode_dbus_secret(service.pointer, encoded).flatMap(GLibValues.takeSecret) else {
                throw ServiceErrors.garbledSecret
            }
            values[path] = value
        }
        return values
    }

    /// Creates an item in the collection at `collectionPath`, or, with `replace` and one with
    /// exactly these attributes there, replaces its label and secret. Returns the item's path.
    /// Sent to the daemon this connection's session belongs to (see ``destination``), as
    /// libsecret's `secret_service_create_item_dbus_path` does but for its address.
    func createItem(
        inCollection collectionPath: String, label: String, attributes: [String: String], value: [UInt8],
        contentType: String, replace: Bool, cancellation: GCancellation
    ) throws(GLibError) -> String {
        let arguments = try createItemArguments(label: label, attributes: attributes, value: value, contentType: contentType, replace: replace)
        let reply = try callSync(collectionPath, "org.freedesktop.Secret.Collection", "CreateItem", arguments, replyType: "(oo)", cancellation)
        defer { g_variant_unref(reply) }
        let (item, prompt) = (GLibValues.tupleString(reply, at: 0), GLibValues.tupleString(reply, at: 1))
        return prompt == "/" ? item : try itemCreated(byPromptAt: prompt, cancellation: cancellation)
    }

    /// `CreateItem`'s arguments (a floating tuple): the item's properties, its secret encoded
    /// for this connection's transfer session, and `replace`.
    func createItemArguments(label: String, attributes: [String: String], value: [UInt8], contentType: String,
                             replace: Bool) throws(GLibError) -> OpaquePointer {
        let secretValue = GLibValues.makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        guard let encoded = secret_service_encode_dbus_secret(service, secretValue) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        let properties = GLibValues.makeVariantDictionary([
            ("org.freedesktop.Secret.Item.Label", g_variant_new_string(label)),
            ("org.freedesktop.Secret.Item.Attributes", makeStringDictionary(attributes)),
        ])
        return GLibValues.tuple([properties, encoded, g_variant_new_boolean(replace ? 1 : 0)])
    }

    /// Runs the prompt a `CreateItem` answered with (the service's dialog) and returns the
    /// path of the item it made.
    func itemCreated(byPromptAt prompt: String, cancellation: GCancellation) throws(GLibError) -> String {
        guard let prompted = try self.prompt(at: prompt, returning: "o", cancellation) else { throw GLibError.dismissedPrompt }
        defer { g_variant_unref(prompted) }
        return String(cString: g_variant_get_string(prompted, nil))
    }

    /// Runs the service's prompt at `path` (a dialog) and returns its result, of `type`;
    /// `nil` when it gave none (as libsecret's prompt does when it was dismissed).
    private func prompt(at path: String, returning type: String?, _ cancellation: GCancellation) throws(GLibError) -> OpaquePointer? {
        cancellation.beginStep()
        let variantType = type.flatMap { g_variant_type_new($0) }
        defer { variantType.map { g_variant_type_free($0) } }
        return try withGError { secret_service_prompt_at_dbus_path_sync(service, path, cancellation.cancellable, variantType, $0) }
    }


    /// Replaces the secret of the item at `path` (`Item.SetSecret`), keeping its attributes and
    /// label: an overwrite that is no `CreateItem` (see `SecretServiceBackend.write`).
    func setSecret(ofItemAt path: String, value: [UInt8], contentType: String, cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let secretValue = GLibValues.makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        guard let encoded = secret_service_encode_dbus_secret(service, secretValue) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        let reply = try withGError {
            g_dbus_connection_call_sync(
                bus, destination, path, "org.freedesktop.Secret.Item", "SetSecret", GLibValues.tuple([encoded]), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        reply.map { g_variant_unref($0) }
    }

    /// Sets the attributes of the item at `path` to `attributes` (`Properties.Set` of the item's
    /// `Attributes`).
    func setAttributes(_ attributes: [String: String], ofItemAt path: String, cancellation: GCancellation) throws(GLibError) {
        let arguments = GLibValues.tuple([g_variant_new_string("org.freedesktop.Secret.Item"), g_variant_new_string("Attributes"),
                                          g_variant_new_variant(makeStringDictionary(attributes))])
        g_variant_unref(try callSync(path, "org.freedesktop.DBus.Properties", "Set", arguments, replyType: "()", cancellation))
    }

    /// The attributes of the item at `path`.
    func attributes(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> [String: String] {
        guard let dictionary = try property("org.freedesktop.Secret.Item", "Attributes", at: path, cancellation: cancellation) else {
            return [:]
        }
        defer { g_variant_unref(dictionary) }
        return Self.stringDictionary(dictionary)
    }

    /// Deletes the item at `path` (`Item.Delete`), through the service's prompt if it shows one;
    /// sent to the daemon this connection was opened with (see ``destination``).
    func deleteItem(at path: String, cancellation: GCancellation) throws(GLibError) {
        let reply = try callSync(path, "org.freedesktop.Secret.Item", "Delete", GLibValues.tuple([]), replyType: "(o)", autoStart: false, cancellation)
        defer { g_variant_unref(reply) }
        let prompt = GLibValues.tupleString(reply, at: 0)
        guard prompt != "/" else { return }
        try completeDeletion(promptAt: prompt, of: path, cancellation: cancellation)
    }

    /// Runs the prompt an `Item.Delete` of the item at `item` answered with (KeePassXC answers
    /// every delete with one, which may show a dialog), then checks that the item is gone:
    /// libsecret's prompt returns the `Completed` signal's result whether the prompt was
    /// dismissed or not, and older KeePassXC completes it as not dismissed even when the person
    /// said no. An item still there throws
    /// ``GLibError/deleteNotConfirmed``.
    func completeDeletion(promptAt prompt: String, of item: String, cancellation: GCancellation) throws(GLibError) {
        try self.prompt(at: prompt, returning: nil, cancellation).map { g_variant_unref($0) }
        do {
            try property("org.freedesktop.Secret.Item", "Label", at: item, cancellation: cancellation).map { g_variant_unref($0) }
        } catch where ServiceErrors.isNoSuchObject(error) {
            return
        }
        throw GLibError.deleteNotConfirmed
    }

    /// One D-Bus property of the object at `path`, unboxed; the caller unrefs it.
    func property(_ interface: String, _ name: String, at path: String, cancellation: GCancellation) throws(GLibError) -> OpaquePointer? {
        cancellation.beginStep()
        let reply = try withGError {
            g_dbus_connection_call_sync(
                g_dbus_proxy_get_connection(proxy), destination, path,
                "org.freedesktop.DBus.Properties", "Get", GLibValues.propertyGetParameters(interface, name), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        return GLibValues.unboxPropertyReply(reply)
    }
}
#endif
