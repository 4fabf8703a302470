#if canImport(CLibSecret)
import CLibSecret

/// What `securestore doctor` says of the Secret Service: who serves it and in what state.
/// Nothing in it is a secret, and reading it reads no item.
@_spi(SecureStoreInternal)
public struct SecretServiceDescription: Sendable {
    /// The unique bus name that owns `org.freedesktop.secrets`.
    public var owner: String
    /// The owner's process ID, as the bus gives it; `nil` when it does not.
    public var processID: UInt32?
    /// The provider, as SecureStore tells it: `GNOME Keyring`, `KeePassXC`, `KWallet`, `another
    /// program` or `unidentified`.
    public var provider: String
    /// Whether the default collection is locked; `nil` when there is none.
    public var defaultCollectionLocked: Bool?
    /// The transfer session's algorithm (SecureStore accepts only the encrypted one).
    public var transfer: String
}

extension SecretServiceBackend {
    /// The Secret Service as this backend reaches it, within the backend's timeout; throws
    /// what a call would.
    @_spi(SecureStoreInternal)
    public func describeService() async throws -> SecretServiceDescription {
        try await withConnection(timeout: timeout) { connection in
            var locked: Bool?
            if let path = try await connection.collectionPath(forAlias: SecretServiceConnection.defaultAlias, timeout: self.timeout) {
                locked = try await connection.isLocked(collectionAt: path, timeout: self.timeout)
            }
            return SecretServiceDescription(
                owner: connection.destination, processID: connection.ownerProcessID, provider: connection.provider.name,
                defaultCollectionLocked: locked, transfer: SecretServiceConnection.encryptedTransfer)
        }
    }

    /// Whether a session bus answers: `nil` when it does, else why not. Waits at most `timeout`.
    @_spi(SecureStoreInternal)
    public static func sessionBusProblem(timeout: Duration = .seconds(3)) async -> String? {
        do {
            try checkSessionBus()
            try await BlockingWorkers.shared.run(timeout: timeout) { cancellation in
                cancellation.beginStep()
                let bus = try withGError { g_bus_get_sync(G_BUS_TYPE_SESSION, cancellation.cancellable, $0) }
                guard let bus else { return }
                // GLib's shared connection, which the backend uses later: it must not exit the
                // process when the bus goes away.
                g_dbus_connection_set_exit_on_close(bus, 0)
                g_object_unref(UnsafeMutableRawPointer(bus))
            }
            return nil
        } catch let error as SecureStoreError {
            return error.message
        } catch let error as GLibError {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}

extension SecretServiceProvider {
    var name: String {
        switch self {
        case .gnomeKeyring: "GNOME Keyring"
        case .keePassXC: "KeePassXC"
        case .kWallet: "KWallet"
        case .other: "another program"
        case .unidentified: "unidentified"
        }
    }
}
#endif
