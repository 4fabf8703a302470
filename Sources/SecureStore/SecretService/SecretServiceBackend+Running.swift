#if canImport(CLibSecret)
import Dispatch
import Glibc
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
                let connection = if let kept { kept } else { try await Self.openConnection(timeout: timeout) }
                do {
                    return try await work(connection)
                } catch let error as GLibError where ServiceErrors.needsNewConnection(error) {
                    Self.forget(connection)
                    if attempt == 3 { throw error }
                }
            }
            preconditionFailure("unreachable: the last attempt returns or throws")
        } catch {
            throw Self.secureStoreError(from: error)
        }
    }

    /// Runs blocking `work` on a worker thread (see `withConnection`), for everything that uses
    /// libsecret's blocking calls: writes, locked items, the unlock dialog.
    func perform<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable (BlockingCall) throws -> T) async throws -> T {
        let timeout = timeout ?? self.timeout
        return try await withConnection(timeout: timeout) { connection in
            try await onConnectionWorker(connection, timeout: timeout, work)
        }
    }

    /// Runs blocking `work` on a worker thread with `connection`, which a caller of
    /// `withConnection` already holds.
    func onConnectionWorker<T: Sendable>(_ connection: SecretServiceConnection, timeout: Duration? = nil,
                                         _ work: @escaping @Sendable (BlockingCall) throws -> T) async throws -> T {
        let timeout = timeout ?? self.timeout
        let interaction = userInteraction
        return try await Self.onWorker(timeout: timeout) { cancellation in
            try work(BlockingCall(connection: connection, cancellation: cancellation, userInteraction: interaction))
        }
    }

    /// Runs `work` on one of the backend's threads with a GCancellable that the task's
    /// cancellation cancels, and a watchdog that cancels it when one step (a D-Bus call, or the
    /// unlock dialog) has waited `timeout`; that ends in `timeoutError`, as does a step that
    /// still has not ended two seconds later. Other errors are passed on as thrown.
    ///
    /// With `cancelsCalls: false` (see `GCancellation`), the caller is let go instead: at once
    /// on task cancellation, at the timeout on the watchdog, and the work finishes unobserved.
    static func onWorker<T: Sendable>(
        _ workers: BlockingWorkers = .shared, timeout: Duration, cancelsCalls: Bool = true,
        _ work: @escaping @Sendable (GCancellation) throws -> T
    ) async throws -> T {
        let cancellation = GCancellation(cancelsCalls: cancelsCalls)
        let resumption = ResumeOnce<T>()
        // A lock holder's lock lasts until this work ends, even when its caller is let go first.
        let outstanding = OutstandingWork.current
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                resumption.attach(continuation)
                // Cancelled before it started: nothing to run (a second resume is ignored).
                guard !cancellation.isCancelled else { return resumption.resume(with: .failure(CancellationError())) }
                outstanding?.begin()
                let watchdog = Watchdog(timeout: timeout, idleNanoseconds: { cancellation.nanosecondsInStep }) {
                    // The way out first: cancelling may block (see GCancellation.init).
                    if cancelsCalls {
                        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) {
                            resumption.resume(with: .failure(timeoutError(timeout)))
                        }
                    } else {
                        resumption.resume(with: .failure(timeoutError(timeout)))
                    }
                    cancellation.timeOut()
                }
                workers.submit {
                    let result = Result { try work(cancellation) }
                    outstanding?.end()
                    watchdog.stop()
                    resumption.resume(with: result.mapError { error in
                        cancellation.timedOut && GCancellation.isCancellation(error) ? timeoutError(timeout) : error
                    })
                }
            }
        } onCancel: {
            cancellation.cancel()
            if !cancelsCalls { resumption.resume(with: .failure(CancellationError())) }
        }
    }

    /// Opens a connection (on a worker thread) and shares it, unless another call shared one first.
    private static func openConnection(timeout: Duration) async throws -> SecretServiceConnection {
        try checkSessionBus()
        let opened: SecretServiceConnection
        do {
            // Many calls at once (a process's first, or every task after a daemon restart) each
            // queue a job here, on the one thread that opens connections: the first opens, the
            // rest take what it opened. Each libsecret proxy opened and dropped leaves a few KB
            // inside GLib, so a restart must cost one open, not one per task, and
            // the waiting must not fill the worker pool (it added 9 threads and 18 descriptors).
            opened = try await onWorker(BlockingWorkers.connectionOpener, timeout: timeout) { cancellation in
                if let shared = sharedConnection.withLock({ $0 }) { return shared }
                var attempt = 1
                while true {
                    do {
                        let fresh = try SecretServiceConnection(cancellation: cancellation)
                        sharedConnection.withLock { $0 = fresh }
                        return fresh
                    } catch {
                        guard (error as? GLibError).map(ProviderQuirks.isKWalletsRejectedPublicKey) == true, attempt < 3 else { throw error }
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

    static func timeoutError(_ timeout: Duration) -> SecureStoreError {
        SecureStoreError(.timeout, "The Secret Service did not answer within \(timeout).")
    }

    /// A failure to open the connection: whatever its GLib code, the service is unavailable
    /// (unless the call was cancelled meanwhile).
    private struct ConnectionFailure: Error {
        var error: GLibError
    }

    /// The one place where GLib's and libsecret's errors become SecureStore's.
    static func secureStoreError(from error: any Error) -> any Error {
        let connecting = error is ConnectionFailure
        guard let error = (error as? ConnectionFailure)?.error ?? error as? GLibError else { return error }
        // A step cancelled by its watchdog is already a timeout error (see onWorker).
        if error.is(ServiceErrors.io, ServiceErrors.cancelled) { return CancellationError() }
        let details = (domain: error.domainName, code: Int(error.code))
        if ServiceErrors.isTimeout(error) {
            return SecureStoreError(.timeout, "The Secret Service did not answer: \(error.message)",
                                    backendDomain: details.domain, backendCode: details.code)
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
