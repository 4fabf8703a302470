#if canImport(CLibSecret)
import CLibSecret

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
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue),
                  message: "The Secret Service offered only the \"\(algorithm)\" transfer session, which does not encrypt secrets; SecureStore requires \(SecretServiceConnection.encryptedTransfer)",
                  remoteName: unencryptedSessionName)
    }

    /// Marks ``unencryptedSession(_:)`` (no D-Bus error has this name).
    static let unencryptedSessionName = "dev.securestore.Error.UnencryptedSession"

    /// The service answered something libsecret's protocol does not allow.
    static func protocolViolation(_ message: String) -> GLibError {
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue), message: message)
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

/// What the Secret Service's errors mean to the backend: the GError domains and codes it tells
/// apart, and the kinds of failure they make (gone, timed out, a new connection needed).
enum ServiceErrors {
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
        // A connection's own trouble is never the item's: KWallet says UnknownObject for a
        // session it does not know, too, and the item may well be there.
        guard !needsNewConnection(error) else { return false }
        return error.is(secret, noSuchObject) || (error.domain == dbus && unknownObject.contains(UInt32(bitPattern: error.code)))
            || ProviderQuirks.isKWalletsMissingItem(error)
    }
}
#endif
