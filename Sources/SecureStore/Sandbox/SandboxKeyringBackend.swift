#if canImport(CLibSecret)
import Dispatch
import Glibc
import Synchronization

/// The backend for apps in a Flatpak or Snap sandbox: the app's own keyring, which libsecret
/// keeps in an encrypted file inside the sandbox, `$XDG_DATA_HOME/keyrings/default.keyring`
/// (`~/.var/app/APP_ID/data/keyrings/default.keyring` in a Flatpak), with a key the desktop's
/// keyring hands over through the Secret portal (`org.freedesktop.portal.Secret`). The app
/// needs no permission beyond the portals: no `--talk-name=org.freedesktop.secrets`.
///
/// Items carry the same attributes as on the Secret Service (see ``SecretServiceBackend``) but
/// for the accessibility, which their label records instead (`app / service / key [ALWAYS]`),
/// so that a write is one libsecret call. Every rule of the backend contract holds. What differs:
/// - Nothing is ever locked and no unlock dialog appears (the portal supplies the key), so
///   `userInteraction` changes nothing and no call fails for a lock.
/// - Only this app sees its items; the desktop's keyring and other apps do not (not even in
///   Seahorse), and this app does not see theirs.
/// - ``isAvailable()`` is `true` when the portal answers and the file can be read.
/// - A sandbox without the Secret portal (or one that refuses) fails every call with
///   ``SecureStoreError/Code/serviceUnavailable`` within two seconds, and never falls back to
///   another store (libsecret alone would try the Secret Service).
/// - Each call reads the whole file and a write rewrites it: two processes of one app that
///   write at the same moment can lose one of the two writes (libsecret's file backend has no
///   lock between processes).
///
/// Every call runs libsecret's blocking calls on a thread the backend owns, one call at a time
/// (libsecret's file backend is not safe to use from two threads at once), with the store's
/// timeout, and honours task cancellation.
public final class SandboxKeyringBackend: SecureStoreBackend {
    public let applicationID: String
    /// How long one call may wait for the portal and the keyring file.
    public let timeout: Duration

    /// A backend for `applicationID`'s items in this sandbox's keyring.
    ///
    /// - Throws: ``SecureStoreError/Code/invalidOptions`` for an application ID that is empty or
    ///   has a control character, or a timeout that is not positive. Nothing is contacted yet.
    public init(applicationID: String, timeout: Duration = .seconds(30)) throws {
        try Validation.checkApplicationID(applicationID)
        guard timeout > .zero else { throw SecureStoreError.invalidOptions("The timeout must be positive.") }
        self.applicationID = applicationID
        self.timeout = timeout
    }

    /// Whether this process runs in a Flatpak or Snap sandbox (libsecret's rule: `/.flatpak-info`
    /// exists, or `SNAP_NAME` is set); ``SecureStore/init(applicationID:userInteraction:timeout:keyring:)``
    /// then picks this backend.
    public static var isSandboxed: Bool { LibSecretPassword.isSandboxed }

    public var canUseBiometricAuthentication: Bool { false }

    public func isAvailable() async -> Bool {
        (try? await perform(timeout: min(timeout, .seconds(3))) { cancellation in
            _ = try LibSecretPassword.search([SecretServiceBackend.Attribute.application: self.applicationID], cancellation)
        }) != nil
    }

    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        let contentType = ItemSchema.contentType(of: value, kind: kind)
        let label = Self.label(applicationID: applicationID, key: key, options: options)
        try await Self.itemLocks.withLock(lockName(key, options)) {
            try await self.perform { cancellation in
                // libsecret's file backend replaces the item with exactly these attributes; the
                // accessibility is not among them (see `label`), so one store call is the whole
                // write. Only `.any` must first learn which states hold the key.
                let states = options.synchronizable.matchingStates
                let targets = states.count == 1 ? states : ItemSchema.writeTargets(
                    try states.map { ($0, try LibSecretPassword.search(self.attributes(key, options, $0), cancellation)) },
                    options, isEmpty: \.isEmpty).map(\.0)
                for isSynchronizable in targets {
                    try LibSecretPassword.store(value, contentType: contentType, attributes: self.attributes(key, options, isSynchronizable),
                                                label: label, cancellation)
                }
            }
        }
    }

    public func getItem(forKey key: String, options: SecureStoreOptions) async throws -> [UInt8]? {
        let found = try await perform { cancellation -> SecretBytes? in
            for isSynchronizable in options.synchronizable.matchingStates {
                if let value = try LibSecretPassword.lookup(self.attributes(key, options, isSynchronizable), cancellation) {
                    return value
                }
            }
            return nil
        }
        // Taken here, on the caller's task: see `SecretBytes`.
        return found?.take()
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try await Self.itemLocks.withLock(lockName(key, options)) {
            try await self.perform { cancellation in
                try LibSecretPassword.clear(self.attributes(key, options, nil), cancellation)
            }
        }
    }

    public func containsItem(forKey key: String, options: SecureStoreOptions) async throws -> Bool {
        try await perform { cancellation in
            try !LibSecretPassword.search(self.attributes(key, options, nil), cancellation).isEmpty
        }
    }

    public func allKeys(options: SecureStoreOptions) async throws -> [String] {
        try await perform { cancellation in
            let found = try LibSecretPassword.search(self.attributes(nil, options, nil), cancellation)
            return Set(found.compactMap { $0.attributes[SecretServiceBackend.Attribute.key].map(ExactName.init) }).sorted().map(\.string)
        }
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try await perform { cancellation in
            try LibSecretPassword.clear(self.attributes(nil, options, nil), cancellation)
        }
    }

    // MARK: - Internal, for tests and tools

    /// What the keyring records about this application's items under (service, key), values
    /// left out; one entry per item.
    func records(service: String, key: String, accessGroup: String? = nil) async throws -> [InMemoryBackend.Record] {
        let options = SecureStoreOptions(keychainService: service, synchronizable: .any, accessGroup: accessGroup)
        return try await perform { cancellation in
            try LibSecretPassword.search(self.attributes(key, options, nil), cancellation).map { item in
                var record = ItemSchema.record(item.attributes)
                record.accessible = Self.accessibility(inLabel: item.label) ?? .whenUnlocked
                return record
            }
        }
    }

    /// Deletes every item of this application (or with `accessGroup`, of that group).
    func deleteEverything(accessGroup: String? = nil) async throws {
        try await perform { cancellation in
            try LibSecretPassword.clear(ItemSchema.namespace(applicationID: self.applicationID, accessGroup), cancellation)
        }
    }

    // MARK: - Running calls

    private func attributes(_ key: String?, _ options: SecureStoreOptions, _ isSynchronizable: Bool?) -> [String: String] {
        ItemSchema.attributes(applicationID: applicationID, key: key, options: options, isSynchronizable: isSynchronizable)
    }

    /// An item's label: the Secret Service's (`application / service / key`) with the
    /// accessibility after it, `... / key [WHEN_UNLOCKED]`. The sandbox keyring keeps the
    /// accessibility there rather than in an attribute because libsecret's file backend
    /// replaces only an item with exactly the same attributes: with the accessibility among
    /// them, a write that changes it would leave the old item too, and every write would need
    /// a search first (a second pass over the whole file).
    /// Nothing else reads these labels: the keyring is the app's alone.
    static func label(applicationID: String, key: String, options: SecureStoreOptions) -> String {
        "\(ItemSchema.label(applicationID: applicationID, key: key, options: options)) [\(options.keychainAccessible.expoName)]"
    }

    /// The accessibility `label` wrote. Keys have no spaces, so the last `[` is the label's own.
    static func accessibility(inLabel label: String) -> KeychainAccessible? {
        guard label.hasSuffix("]"), let open = label.lastIndex(of: "[") else { return nil }
        return KeychainAccessible(expoName: String(label[label.index(after: open)..<label.index(before: label.endIndex)]))
    }

    private func lockName(_ key: String, _ options: SecureStoreOptions) -> ExactName {
        ItemSchema.lockName(applicationID: applicationID, key: key, options: options)
    }

    private static let itemLocks = KeyedLock<ExactName>()

    /// Whether the Secret portal answered once in this process (see `checkPortal`).
    private static let portalAnswered = Atomic(false)

    /// Runs blocking `work` on one of the backend's threads with the store's timeout, after
    /// making sure the Secret portal is there, and maps what it throws to `SecureStoreError`.
    private func perform<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable (GCancellation) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let timeout = timeout ?? self.timeout
        do {
            try SecretServiceBackend.checkSessionBus()
            return try await SecretServiceBackend.onWorker(.sandboxKeyring, timeout: timeout, cancelsCalls: false) { cancellation in
                try Self.checkPortal(cancellation)
                try Self.warmUp(timeout: timeout)
                return try work(cancellation)
            }
        } catch {
            throw SecretServiceBackend.secureStoreError(from: error)
        }
    }

    /// Whether libsecret's file backend has its key (see `warmUp`).
    private static let backendReady = Atomic(false)
    private static let warmUpWorkers = BlockingWorkers(maximumThreads: 4)

    /// libsecret's file backend asks the portal for its key on its first call in a process.
    /// libsecret 0.20.5 can lose the portal's answer and then wait for ever; `PortalKeyRequest`
    /// makes that call so that it does not, and as a second line the call is made again, but
    /// only for an answer that was lost: when a portal answer came in (`latestAnswerHeard`) and
    /// no attempt has finished `answerTakeUp` later, the attempt is left running (a thread each,
    /// in a pool of four of its own) and a new one sends a new request, up to four; the first
    /// answer from any of them counts. A portal that is merely slow is never asked twice: on a
    /// busy machine its answer can take over a second, and where the desktop's keyring is
    /// locked the answer waits for the user at its unlock dialog, which a second request would
    /// show again. The whole wait is bounded by `timeout`.
    /// Once one has answered, libsecret keeps the backend for the life of the process.
    private static func warmUp(timeout: Duration) throws {
        guard !backendReady.load(ordering: .acquiring) else { return }
        let deadline = ContinuousClock.now + timeout
        let firstAnswer = FirstAnswer()
        var attempts = 0
        var askedAt = ContinuousClock.now
        func ask() {
            attempts += 1
            askedAt = .now
            warmUpWorkers.submit {
                firstAnswer.offer(Result { () throws(GLibError) in try PortalKeyRequest.makeFirstCall() })
            }
        }
        ask()
        while true {
            let left = deadline - .now
            guard left > .zero else { break }
            // Short waits, to look for an answer heard but not taken up in between.
            if let answer = firstAnswer.wait(min(left, .milliseconds(50))) {
                do {
                    try answer.get()
                } catch {
                    throw portalRefusal(error)
                }
                backendReady.store(true, ordering: .releasing)
                return
            }
            if attempts < 4, let heard = PortalKeyRequest.latestAnswerHeard, heard > askedAt, heard + answerTakeUp < .now {
                ask()
            }
        }
        throw SecureStoreError(.timeout, "The Secret portal did not hand over the sandbox keyring's key within \(timeout).")
    }

    /// How long after the portal's answer came in libsecret may take to finish the first call
    /// before the answer counts as lost. A taken-up answer finishes it in milliseconds;
    /// `PortalKeyRequest` itself holds an answer up to a second.
    private static let answerTakeUp = Duration.seconds(2)

    /// The first of several attempts' outcomes.
    private final class FirstAnswer: Sendable {
        private let answer = Mutex<Result<Void, GLibError>?>(nil)
        private let answered = DispatchSemaphore(value: 0)

        func offer(_ result: Result<Void, GLibError>) {
            let isFirst = answer.withLock { answer in
                defer { if answer == nil { answer = result } }
                return answer == nil
            }
            if isFirst { answered.signal() }
        }

        /// The first answer, if one comes within `timeout`.
        func wait(_ timeout: Duration) -> Result<Void, GLibError>? {
            if let answer = answer.withLock({ $0 }) { return answer }
            guard answered.wait(timeout: .now() + .nanoseconds(Int(max(timeout, .zero).nanoseconds))) == .success else { return nil }
            answered.signal()   // for a later wait, which returns the same answer
            return answer.withLock { $0 }
        }
    }

    /// What the first call's failure means: the portal did not hand over the key. libsecret
    /// reports the portal's "cancelled" answer (the user dismissed the desktop keyring's unlock
    /// dialog) as G_IO_ERROR_CANCELLED, which is no task cancellation here, and its "failed"
    /// answer (no dialog could be shown) as G_IO_ERROR_FAILED.
    private static func portalRefusal(_ error: any Error) -> any Error {
        guard let error = error as? GLibError else { return error }
        if GCancellation.isCancellation(error) {
            return SecureStoreError(.authenticationCanceled, "The desktop's keyring did not hand the sandbox keyring's key over: its unlock dialog was dismissed (Secret portal).",
                                    backendDomain: error.domainName, backendCode: Int(error.code))
        }
        return SecureStoreError(.serviceUnavailable, "The Secret portal did not hand the sandbox keyring's key over: \(error.message)",
                                backendDomain: error.domainName, backendCode: Int(error.code))
    }

    /// Fails unless libsecret will keep this app's items in the sandbox's own file, with the key
    /// the Secret portal hands over, by libsecret's own rule: the process is sandboxed and the
    /// portal answers (within two seconds) with version 1. Asked before libsecret's first call,
    /// because libsecret, finding no portal or another version, silently uses the Secret
    /// Service for the life of the process: another store, possibly the very one items are
    /// moved out of. libsecret's test variables, which a sandbox's environment can carry
    /// (`flatpak override --env`), would give the file another key or another place: refused.
    private static func checkPortal(_ cancellation: GCancellation) throws {
        guard !portalAnswered.load(ordering: .acquiring) else { return }
        guard LibSecretPassword.isSandboxed else {
            throw SecureStoreError(.serviceUnavailable, "The sandbox keyring exists only inside a Flatpak or Snap sandbox (no /.flatpak-info, no SNAP_NAME); use the Secret Service outside one.")
        }
        for variable in LibSecretPassword.testVariables where getenv(variable) != nil {
            throw SecureStoreError(.keyChain, "\(variable) is set: libsecret would keep the sandbox keyring with a key or in a place it names, not the portal's. Unset it.")
        }
        let version: UInt32
        do {
            version = try LibSecretPassword.portalVersion(timeoutMilliseconds: 2000, cancellation)
        } catch {
            if GCancellation.isCancellation(error) { throw error }
            throw SecureStoreError(.serviceUnavailable, "The Secret portal (org.freedesktop.portal.Secret) is not available in this sandbox, so the app's keyring has no key: \(error.message)",
                                   backendDomain: error.domainName, backendCode: Int(error.code))
        }
        guard version == LibSecretPassword.portalVersionForFileKeyring else {
            throw SecureStoreError(.serviceUnavailable, "The Secret portal reports version \(version); libsecret keeps the sandbox keyring only with version \(LibSecretPassword.portalVersionForFileKeyring) and would use the Secret Service instead.")
        }
        portalAnswered.store(true, ordering: .releasing)
    }
}
#endif
