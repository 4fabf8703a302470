#if canImport(CLibSecret)
import CLibSecret

/// The default collection's blocking calls: its alias, its lock state, unlocking it, making it.
extension SecretServiceConnection {
    /// Asks the service to unlock `paths`, which may show the desktop's unlock dialog.
    /// Returns the paths that are unlocked afterwards (none when the user dismissed it). Where
    /// this connection hears the service's prompts (`hearsPrompts`) it runs the unlock's prompt
    /// itself (see `prompt(at:_:)`), so that a daemon that leaves under its dialog ends the wait.
    func unlock(_ paths: [String], cancellation: GCancellation) throws(GLibError) -> [String] {
        guard hearsPrompts else { return try unlockThroughLibsecret(paths, cancellation: cancellation) }
        let reply = try callSync(Self.servicePath, "org.freedesktop.Secret.Service", "Unlock",
                                 GLibValues.tuple([GLibValues.objectPathArray(paths)]), replyType: "(aoo)", cancellation)
        defer { g_variant_unref(reply) }
        let unlocked = GLibValues.objectPaths(g_variant_get_child_value(reply, 0))
        let prompt = GLibValues.tupleString(reply, at: 1)
        guard prompt != "/" else { return unlocked }
        let outcome = try self.prompt(at: prompt, cancellation)
        return outcome.dismissed ? unlocked : unlocked + outcome.objectPaths
    }

    private func unlockThroughLibsecret(_ paths: [String], cancellation: GCancellation) throws(GLibError) -> [String] {
        cancellation.beginStep()
        var unlocked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        defer { g_strfreev(unlocked) }
        _ = try GLibValues.withNullTerminatedStrings(paths) { array throws(GLibError) in
            try withGError {
                secret_service_unlock_dbus_paths_sync(service, array, cancellation.cancellable, &unlocked, $0)
            }
        }
        return GLibValues.strings(unlocked)
    }

    /// The collection path behind an alias such as `default`, or `nil` when the alias is unset.
    func collectionPath(forAlias alias: String, cancellation: GCancellation) throws(GLibError) -> String? {
        cancellation.beginStep()
        let path = try withGError {
            secret_service_read_alias_dbus_path_sync(service, alias, cancellation.cancellable, $0)
        }
        return GLibValues.takeString(path)
    }

    /// Whether the collection at `path` (an alias path such as
    /// `/org/freedesktop/secrets/aliases/default` works too) is locked. A collection that does
    /// not exist (an alias that names none: a fresh account has no login keyring yet) is not:
    /// it hides nothing.
    func isLocked(collectionAt path: String, cancellation: GCancellation) throws(GLibError) -> Bool {
        do {
            return GLibValues.takeLockedFlag(try property("org.freedesktop.Secret.Collection", "Locked", at: path, cancellation: cancellation))
        } catch where ServiceErrors.isNoSuchObject(error) {
            return false
        }
    }

    /// Whether the default collection is locked: remembered (see `LockStateMemory`), or read
    /// and remembered. Blocking.
    func isDefaultCollectionLocked(cancellation: GCancellation) throws(GLibError) -> Bool {
        guard remembersLockState else { return try isLocked(collectionAt: SecretServiceConnection.defaultCollection, cancellation: cancellation) }
        if let known = lockState.recall() { return known }
        let generation = SecretServiceSignals.currentCollectionGeneration
        let isLocked = try isLocked(collectionAt: SecretServiceConnection.defaultCollection, cancellation: cancellation)
        lockState.remember(isLocked, readAt: generation)
        return isLocked
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
}
#endif
