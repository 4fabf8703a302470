#if canImport(CLibSecret)
import CLibSecret

/// What the Secret Service's errors mean to the backend: the GError domains and codes it tells
/// apart, and the kinds of failure they make (gone, timed out, a new connection needed).
enum ServiceErrors {
    private static var io: GQuark { GLibError.io }
    private static var dbus: GQuark { GLibError.dbus }
    static var secret: GQuark { secret_error_get_quark() }

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
            || isGarbled(error) || ProviderQuirks.isKWalletsLostSession(error)
    }

    static func isGarbled(_ error: GLibError) -> Bool {
        error.is(io, G_IO_ERROR_INVALID_DATA.rawValue) && error.message == garbledSecret.message
    }

    /// A secret the transfer session garbled: one this process could not decrypt, or a write
    /// that read back different bytes. The keys the two sides derived differ; a new connection
    /// negotiates a new session.
    static var garbledSecret: GLibError {
        GLibError(domain: io, code: Int32(bitPattern: G_IO_ERROR_INVALID_DATA.rawValue),
                  message: "The Secret Service's transfer session garbled a secret (its key exchange failed)")
    }

    static func isTimeout(_ error: GLibError) -> Bool {
        error.is(io, GLibError.ioTimedOut) || (error.domain == dbus && dbusTimeouts.contains(UInt32(bitPattern: error.code)))
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

extension GLibError {
    /// The service offered only a transfer session that does not encrypt secrets.
    static func unencryptedSession(_ algorithm: String) -> GLibError {
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue),
                  message: "The Secret Service offered only the \"\(algorithm)\" transfer session, which does not encrypt secrets; SecureStore requires \(SecretServiceConnection.encryptedTransfer)",
                  remoteName: unencryptedSessionName)
    }

    /// Marks ``unencryptedSession(_:)`` (no D-Bus error has this name).
    static let unencryptedSessionName = "dev.securestore.Error.UnencryptedSession"

    /// The service's prompt (a dialog) was dismissed: what it asked for was not done.
    static var dismissedPrompt: GLibError {
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue),
                  message: "The Secret Service's dialog was dismissed", remoteName: dismissedPromptName)
    }

    /// The service asked to confirm a delete (KeePassXC's dialog) and the
    /// prompt was dismissed: the item is kept. A kind of ``dismissedPrompt``.
    static var deleteNotConfirmed: GLibError {
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue),
                  message: "The keyring asked to confirm the delete, and it was not confirmed: the item is kept",
                  remoteName: dismissedPromptName)
    }

    /// Marks ``dismissedPrompt`` and ``deleteNotConfirmed`` (no D-Bus error has this name).
    static let dismissedPromptName = "dev.securestore.Error.DismissedPrompt"

    /// The service changed owners while a call ran: the call is made again on a new connection.
    static var ownerChanged: GLibError {
        GLibError(domain: GLibError.dbus, code: Int32(bitPattern: G_DBUS_ERROR_SERVICE_UNKNOWN.rawValue),
                  message: "Another daemon took the Secret Service's name during the call")
    }

    /// The service answered something libsecret's protocol does not allow.
    static func protocolViolation(_ message: String) -> GLibError {
        GLibError(domain: ServiceErrors.secret, code: Int32(SECRET_ERROR_PROTOCOL.rawValue), message: message)
    }
}

extension SecretServiceBackend {
    /// A failure to open the connection: whatever its GLib code, the service is unavailable
    /// (unless the call was cancelled meanwhile).
    struct ConnectionFailure: Error {
        var error: GLibError
    }

    /// What a call threw, as its caller sees it: where GLib's and libsecret's errors become
    /// `SecureStoreError`s, for the Secret Service backend and the file keyring's threads. Steps
    /// that know more (`BlockingCall`'s unlock and default-collection steps, the file keyring's
    /// `KeyringError`) throw `SecureStoreError`s themselves, which pass unchanged; the Secret
    /// portal's few failures mean other things and are told apart in `PortalSecret`.
    static func secureStoreError(from error: any Error) -> any Error {
        let connecting = error is ConnectionFailure
        guard let error = (error as? ConnectionFailure)?.error ?? error as? GLibError else { return error }
        // A step cancelled by its watchdog is already a timeout error (see BlockingWorkers.run).
        if error.is(GLibError.io, GLibError.cancelled) { return CancellationError() }
        let details = (domain: error.domainName, code: Int(error.code))
        if ServiceErrors.isTimeout(error) {
            return SecureStoreError(.timeout, "The Secret Service did not answer: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if error.remoteName == GLibError.dismissedPromptName {
            return SecureStoreError(.authenticationCanceled, error.message, backendDomain: details.domain, backendCode: details.code)
        }
        if error.remoteName == GLibError.unencryptedSessionName {
            return SecureStoreError(.keyChain, error.message, backendDomain: details.domain, backendCode: details.code)
        }
        if connecting {
            return SecureStoreError(.serviceUnavailable, "Could not connect to the Secret Service: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if ServiceErrors.isUnavailable(error) {
            return SecureStoreError(.serviceUnavailable, "The Secret Service is not available: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        if error.is(ServiceErrors.secret, ServiceErrors.isLocked) {
            return SecureStoreError(.interactionNotAllowed, "The keyring is locked: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
        }
        return SecureStoreError(.keyChain, "The Secret Service failed: \(error.message)",
                                backendDomain: details.domain, backendCode: details.code)
    }
}
#endif
