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
    /// `whenServiceOpened` runs right after the transfer session opened (tests cancel there).
    init(cancellation: GCancellation, whenServiceOpened: () -> Void = {}) throws(GLibError) {
        let bus = try Self.sessionBus(cancellation)
        defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
        // The signals' rules, the service's owner and its program are asked while the proxy
        // opens, so that their round trip hides behind the proxy's.
        let remembers = Self.remembersBetweenCalls.load(ordering: .relaxed)
        let (service, watching, replies) = try SecretServiceSignals.watch(
            bus, cancellation, selecting: remembers ? .all : .owner, alongWith: Self.providerQuestions
        ) { () throws(GLibError) in
            let service = try Self.openService(on: bus, cancellation)
            whenServiceOpened()
            return service
        }
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
        // Checked once every property is set, so that deinit releases the proxy. GDBus ends
        // every reply not yet handed over when the call was cancelled as cancelled: such a
        // reply says nothing of the bus's rules or the provider's names, so the call ends here.
        if cancellation.isCancelled { throw cancellation.cancelledError }
        // Without the signals nothing tells who owns the service, so no reply could be trusted.
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
        let watching = SecretServiceSignals.watch(held.bus, cancellation)
        // A rule's reply that the cancellation ended is no refusal.
        if cancellation.isCancelled { throw cancellation.cancelledError }
        return watching ? held : nil
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
}
#endif
