#if canImport(CLibSecret)
import Logging
import Synchronization

/// The steps one backend call is made of, on a worker thread with its connection and
/// cancellable. Throws `GLibError` or `SecureStoreError`.
struct BlockingCall {
    let connection: SecretServiceConnection
    let cancellation: GCancellation
    let userInteraction: UserInteraction
    /// The backend's logger.
    let logger: Logger

    struct Found {
        var unlocked: [String]
        var locked: [String]
        var all: [String] { unlocked + locked }
    }

    func search(_ attributes: [String: String]) throws -> Found {
        if ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider),
           try connection.isDefaultCollectionLocked(cancellation: cancellation) {
            try unlockDefaultCollection()   // or fail at once when interaction is not allowed
        }
        let found = try connection.searchItems(attributes, cancellation: cancellation)
        return Found(unlocked: found.unlocked, locked: found.locked)
    }

    /// On a provider whose writes need it, checks that the item at `path` holds `value` (see
    /// `ProviderQuirks.writesNeedReadBack`); a mismatch throws, so the write runs again on a new
    /// connection. An item deleted since by another client passes: the write itself succeeded.
    func checkStored(_ value: [UInt8], at path: String) throws {
        guard ProviderQuirks.writesNeedReadBack(connection.provider) else { return }
        guard let stored = try secret(ofItemAt: path) else { return }
        defer { stored.zero() }
        if !stored.equals(value) { throw ServiceErrors.garbledSecret }
        connection.markSessionVerified()   // only a shared key reads back what was sent
    }

    /// The value at `path`, or `nil` when the item went away since it was found.
    func secret(ofItemAt path: String) throws -> SecretBytes? {
        do {
            return try connection.secret(ofItemAt: path, cancellation: cancellation)
        } catch where ServiceErrors.isNoSuchObject(error) {
            return nil
        }
    }

    /// Replaces the secret of the item at `path` when it carries exactly `attributes` among its
    /// own, and returns `path`; `nil` when it carries others or is gone. Where the provider
    /// changes an item's accessibility in place (`ProviderQuirks.changesAccessibilityInPlace`),
    /// an item that differs only in its accessibility is kept too: its attributes are set, then
    /// its secret.
    func replaceSecretIfSameItem(_ path: String, _ attributes: [String: String], _ value: [UInt8], _ contentType: String) throws -> String? {
        do {
            let differing = try ourAttributesDiffering(path, attributes)
            let changesAccessibility = differing == [SecretServiceBackend.Attribute.accessible]
            guard differing.isEmpty || (changesAccessibility && ProviderQuirks.changesAccessibilityInPlace(connection.provider)) else { return nil }
            // The attributes first: where the second call fails, the key still holds the value
            // it had, as a failed write must leave it (only its accessibility is new).
            if changesAccessibility {
                try connection.setAttributes(attributes, ofItemAt: path, cancellation: cancellation)
            }
            try connection.setSecret(ofItemAt: path, value: value, contentType: contentType, cancellation: cancellation)
            SecretServiceSignals.announceOwnChange(.itemChanged(path))
            return path
        } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
            return nil   // deleted since the search
        }
    }

    /// Which of our attributes the item at `path` holds otherwise than `attributes`. Providers
    /// may add attributes of their own (KeePassXC adds Title, UserName, URL, Notes, Path, Uuid),
    /// so only ours are compared.
    func ourAttributesDiffering(_ path: String, _ attributes: [String: String]) throws -> [String] {
        let stored = try connection.attributes(ofItemAt: path, cancellation: cancellation)
        return SecretServiceBackend.Attribute.all.filter { name in
            stored[name].map(ExactName.init) != attributes[name].map(ExactName.init)
        }
    }

    /// What the item at `path` holds now, for putting it back (see `WriteRecovery`); no value
    /// when there is no item.
    func previous(of path: String?) throws -> WriteRecovery.Previous {
        guard let path, let value = try secret(ofItemAt: path) else { return WriteRecovery.Previous(value: nil, accessible: .whenUnlocked) }
        let stored = try connection.attributes(ofItemAt: path, cancellation: cancellation)
        return WriteRecovery.Previous(
            value: value.take(), accessible: stored[SecretServiceBackend.Attribute.accessible].flatMap(KeychainAccessible.init(expoName:)) ?? .whenUnlocked)
    }

    /// Deletes every item matching `attributes`, unlocking first when that is allowed; a miss in
    /// a locked keyring is not taken as "nothing to delete" (see `missMayBeHiddenByLock`).
    func deleteItems(matching attributes: [String: String]) throws {
        var found = try search(attributes)
        // Remembered where the provider announces locks (see `LockStateMemory`): no round trip.
        if found.all.isEmpty, try connection.isDefaultCollectionLocked(cancellation: cancellation) {
            try unlockDefaultCollection()
            found = try search(attributes)
        }
        try ensureUnlocked(found.locked)
        for path in found.all {
            try deleteItem(at: path)
        }
    }

    /// Deletes the item at `path`; one that is already gone counts as deleted.
    func deleteItem(at path: String) throws {
        do {
            try connection.deleteItem(at: path, cancellation: cancellation)
        } catch where ServiceErrors.isNoSuchObject(error) {
        }
    }

    /// The default collection, by its alias path, which the service accepts in place of its own.
    static let defaultCollection = SecretServiceConnection.defaultCollection

    /// Creates or replaces an item in the default collection. A locked collection fails with
    /// `SECRET_ERROR_IS_LOCKED`, which the caller handles (see `setItem`).
    func createItem(label: String, attributes: [String: String], value: [UInt8], contentType: String) throws -> String {
        try connection.createItem(inCollection: SecretServiceConnection.defaultCollection, label: label, attributes: attributes,
                                  value: value, contentType: contentType,
                                  replace: ProviderQuirks.createMayReplace(connection.provider), cancellation: cancellation)
    }

    /// Whether a search that found nothing means nothing until the keyring is unlocked: a
    /// keyring that has not been unlocked since the daemon started hides its items even from
    /// searches, so a miss in a locked default collection is no answer. A miss in an unlocked
    /// one is real.
    func missMayBeHiddenByLock() throws -> Bool {
        try connection.isLocked(collectionAt: SecretServiceConnection.defaultCollection, cancellation: cancellation)
    }

    /// A miss in a locked keyring, for calls that never show the unlock dialog.
    static var hiddenByLock: SecureStoreError {
        SecureStoreError(.interactionNotAllowed, "The keyring is locked, and until it is unlocked its items cannot be found or listed.")
    }

    /// Unlocks the default collection (the service wants its real path, not the alias).
    func unlockDefaultCollection() throws {
        try ensureUnlocked([try defaultCollectionRealPath()])
    }

    /// Creates the default collection when there is none, through the service's own dialog
    /// (it asks for the new keyring's password), or throws when that is not allowed or the user
    /// dismisses it. Returns `false` when a default collection exists.
    func createDefaultCollectionIfMissing() throws -> Bool {
        guard try connection.collectionPath(forAlias: SecretServiceConnection.defaultAlias, cancellation: cancellation) == nil else { return false }
        guard userInteraction == .allowed else {
            throw SecureStoreError(.interactionNotAllowed, "The Secret Service has no default keyring (no login keyring yet); creating one asks the user for its password, and user interaction is not allowed.")
        }
        do {
            try connection.createCollection(label: "Login", alias: SecretServiceConnection.defaultAlias, cancellation: cancellation)
        } catch {
            // Cancelled, timed out or gone: the usual mapping. Anything else is the dialog's answer.
            if GCancellation.isCancellation(error) || ServiceErrors.isTimeout(error) || ServiceErrors.isUnavailable(error) { throw error }
            throw SecureStoreError(.authenticationCanceled, "The Secret Service has no default keyring, and the dialog that creates one was dismissed or could not be shown: \(error.message)",
                                   backendDomain: error.domainName, backendCode: Int(error.code))
        }
        return true
    }

    func defaultCollectionRealPath() throws -> String {
        guard let path = try connection.collectionPath(forAlias: SecretServiceConnection.defaultAlias, cancellation: cancellation) else {
            throw SecureStoreError(.keyChain, "The Secret Service has no default collection (no login keyring).")
        }
        return path
    }

    /// One unlock dialog at a time for the whole process, its answer shared by every call that
    /// waited for it.
    private static let sharedUnlock = SharedUnlock()

    /// Unlocks `paths` through the service's own prompt, or fails when that is not allowed or
    /// the user dismisses it.
    func ensureUnlocked(_ paths: [String]) throws {
        guard !paths.isEmpty else { return }
        guard userInteraction == .allowed else {
            throw SecureStoreError(.interactionNotAllowed, "The keyring is locked and user interaction is not allowed.")
        }
        try Self.sharedUnlock.run(cancellation: cancellation) {
            logger.debug("The keyring is locked; asking the Secret Service to unlock it (its unlock dialog)",
                         metadata: [LogKey.provider: "\(connection.provider)"])
            let start = ContinuousClock.now
            let unlocked = try connection.unlock(paths, cancellation: cancellation)
            let metadata: Logger.Metadata = [LogKey.durationMilliseconds: (ContinuousClock.now - start).loggedMilliseconds]
            guard Set(paths).isSubset(of: unlocked) else {
                logger.debug("The unlock dialog was dismissed or could not be shown", metadata: metadata)
                throw SecureStoreError(.authenticationCanceled, "The keyring stayed locked: the unlock dialog was dismissed or could not be shown.")
            }
            logger.debug("The keyring was unlocked", metadata: metadata)
        }
    }
}
#endif
