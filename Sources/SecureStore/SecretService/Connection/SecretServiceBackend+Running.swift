#if canImport(CLibSecret)
import Dispatch
import Glibc
import Logging
import Synchronization

extension SecretServiceBackend {
    // MARK: - Running calls

    /// One connection per process, opened on first use and replaced after the service goes away.
    private static let sharedConnection = Mutex<SecretServiceConnection?>(nil)

    /// Runs `work` with the shared connection, opening one (on a worker thread) if there is
    /// none, and maps whatever it throws to `SecureStoreError` (or `CancellationError`): the
    /// way into the service for every call. A connection kept from earlier calls may predate a
    /// daemon restart; when `work` finds that its service went away, it runs once more on a new
    /// connection. Every call's steps may be repeated.
    func withConnection<T: Sendable>(timeout: Duration? = nil, _ work: (SecretServiceConnection) async throws -> T) async throws -> T {
        try Task.checkCancellation()
        let timeout = timeout ?? self.timeout
        do {
            // Three tries: the kept connection, then new ones (a KWallet session whose key
            // exchange failed fails again on the same connection; a new one is almost always sound).
            for attempt in 1...3 {
                var kept = Self.sharedConnection.withLock { $0 }
                if let stale = kept, !stale.servesCurrentOwner {
                    Self.forget(stale)
                    kept = nil
                }
                let connection = if let kept { kept } else { try await Self.openConnection(timeout: timeout, logger: logger) }
                do {
                    let result = try await work(connection)
                    // Another daemon took the service's name while the work ran (a write
                    // waiting at a dialog, say): what the old one answered is not the service's.
                    guard connection.servesCurrentOwner || attempt == 3 else { throw GLibError.ownerChanged }
                    return result
                } catch let error as GLibError where ServiceErrors.needsNewConnection(error) {
                    Self.forget(connection)
                    logger.debug(attempt == 3 ? "The connection failed on the last attempt" : "Replacing the connection and running the call again",
                                 metadata: [LogKey.reason: "\(error.message)", LogKey.provider: "\(connection.provider)"])
                    if attempt == 3 { throw error }
                }
            }
            preconditionFailure("unreachable: the last attempt returns or throws")
        } catch {
            throw Self.secureStoreError(from: error)
        }
    }

    /// Runs blocking `work` on a worker thread with the shared connection (see
    /// `withConnection`), for everything that uses libsecret's blocking calls: writes, locked
    /// items, the unlock dialog.
    func withBlockingCall<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable (BlockingCall) throws -> T) async throws -> T {
        let timeout = timeout ?? self.timeout
        return try await withConnection(timeout: timeout) { connection in
            try await withBlockingCall(on: connection, timeout: timeout, work)
        }
    }

    /// Runs blocking `work` on a worker thread with `connection`, which a caller of
    /// `withConnection` already holds.
    func withBlockingCall<T: Sendable>(on connection: SecretServiceConnection, timeout: Duration? = nil,
                                       _ work: @escaping @Sendable (BlockingCall) throws -> T) async throws -> T {
        let timeout = timeout ?? self.timeout
        let interaction = userInteraction, logger = logger
        return try await BlockingWorkers.shared.run(timeout: timeout) { cancellation in
            try work(BlockingCall(connection: connection, cancellation: cancellation, userInteraction: interaction, logger: logger))
        }
    }

    /// Opens a connection (on a worker thread) and shares it, unless another call shared one first.
    private static func openConnection(timeout: Duration, logger: Logger) async throws -> SecretServiceConnection {
        try checkSessionBus()
        let opened: SecretServiceConnection
        do {
            // Many calls at once (a process's first, or every task after a daemon restart) each
            // queue a job here, on the one thread that opens connections: the first opens, the
            // rest take what it opened. Each libsecret proxy opened and dropped leaves a few KB
            // inside GLib, so a restart must cost one open, not one per task, and the waiting
            // must not hold threads of the worker pool.
            opened = try await BlockingWorkers.connectionOpener.run(timeout: timeout) { cancellation in
                if let shared = sharedConnection.withLock({ $0 }) { return shared }
                var attempt = 1
                while true {
                    do {
                        let fresh = try SecretServiceConnection(cancellation: cancellation)
                        sharedConnection.withLock { $0 = fresh }
                        logger.debug("Connected to the Secret Service", metadata: fresh.loggedMetadata)
                        return fresh
                    } catch {
                        guard (error as? GLibError).map(ProviderQuirks.isKWalletsRejectedPublicKey) == true, attempt < 3 else { throw error }
                        logger.debug("KWallet rejected the transfer session's public key; opening the session again with a new one")
                        attempt += 1   // a new attempt sends a new public key
                    }
                }
            }
        } catch let error as GLibError {
            throw ConnectionFailure(error: error)
        }
        return sharedConnection.withLock { shared in
            if let shared { return shared }
            shared = opened
            return opened
        }
    }

    /// Stops sharing `connection`, so that the next call opens a new one.
    private static func forget(_ connection: SecretServiceConnection) {
        sharedConnection.withLock { if $0 === connection { $0 = nil } }
    }

    /// Fails fast when no session bus is configured, so GLib never tries to autolaunch one.
    static func checkSessionBus() throws(SecureStoreError) {
        // libsecret would talk to another name, whose owner nothing here follows: no reply
        // could be checked against it, and no connection would be kept.
        if let name = getenv("SECRET_SERVICE_BUS_NAME").map({ String(cString: $0) }), !name.isEmpty, name != ServiceOwners.serviceName {
            throw SecureStoreError(.serviceUnavailable, "SECRET_SERVICE_BUS_NAME asks for another Secret Service than \(ServiceOwners.serviceName); SecureStore talks to that one only.")
        }
        if let address = getenv("DBUS_SESSION_BUS_ADDRESS").map({ String(cString: $0) }), !address.isEmpty {
            guard !address.contains("autolaunch:") else {
                throw SecureStoreError(.serviceUnavailable, "DBUS_SESSION_BUS_ADDRESS asks for an autolaunched bus; SecureStore never starts a bus.")
            }
            return
        }
        if let runtimeDirectory = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtimeDirectory.isEmpty {
            var status = stat()
            if stat(runtimeDirectory + "/bus", &status) == 0, status.st_mode & S_IFMT == S_IFSOCK { return }
        }
        throw SecureStoreError(.serviceUnavailable, "No D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist.")
    }
}
#endif
