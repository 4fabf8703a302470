#if canImport(CLibSecret)
import Logging
import Synchronization

extension SecretServiceBackend {
    public func setItem(_ value: [UInt8], kind: ValueKind, forKey key: String, options: SecureStoreOptions) async throws {
        let contentType = ItemSchema.contentType(of: value, kind: kind)
        try await withKeyLock(key, options) {
            let recovery = WriteRecovery()
            do {
                try await self.writeVerified(value, contentType: contentType, forKey: key, options: options, recovery)
            } catch where recovery.isUnverified {
                throw await self.undo(recovery, forKey: key, options: options)
            }
        }
    }

    public func deleteItem(forKey key: String, options: SecureStoreOptions) async throws {
        try await withKeyLock(key, options) {
            try await self.deleteItems(forKey: key, options: options)
        }
    }

    public func deleteAll(options: SecureStoreOptions) async throws {
        try await withBlockingCall { call in
            try call.deleteItems(matching: self.attributes(key: nil, options: options, isSynchronizable: nil))
        }
    }

    /// `setItem` without its lock, its read-backs recorded in `recovery` when given: in one
    /// round trip where it can be (see `writeInOneRoundTrip`), else the full write.
    func writeVerified(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                       _ recovery: WriteRecovery? = nil) async throws {
        try await withConnection { connection in
            if try await self.writeInOneRoundTrip(value, contentType: contentType, forKey: key, options: options, connection) { return }
            let found: [(isSynchronizable: Bool, found: BlockingCall.Found)]?
            switch try await self.searchBeforeWriting(value, contentType: contentType, forKey: key, options: options, connection) {
            case .written: return
            case .found(let existing): found = existing
            case .notSearched: found = nil
            }
            try await self.withBlockingCall(on: connection) { call in
                // A locked collection refuses the write; then unlock it (if allowed) and start
                // over, because it may also have hidden existing items from the search.
                do {
                    try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call, found: found)
                } catch let error as GLibError where error.is(ServiceErrors.secret, ServiceErrors.isLocked) {
                    call.logger.debug("The keyring refused the write as locked; unlocking it and writing again",
                                      metadata: [LogKey.key: "\(key)", LogKey.service: "\(options.service)"])
                    try call.unlockDefaultCollection()
                    try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
                } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
                    // No default collection (a fresh account's keyring has no login keyring yet):
                    // make one, as libsecret's secret_password_store does, then write.
                    guard try call.createDefaultCollectionIfMissing() else { throw error }
                    try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
                }
            }
        }
    }

    /// `deleteItem` without its lock.
    func deleteItems(forKey key: String, options: SecureStoreOptions) async throws {
        try await withConnection { connection in
            if try await self.deleteWithoutBlocking(forKey: key, options: options, connection) { return }
            try await self.withBlockingCall(on: connection) { call in
                try call.deleteItems(matching: self.attributes(key: key, options: options, isSynchronizable: nil))
            }
        }
    }

    /// `deleteItem`'s common case with calls that block no thread, in the round trips of
    /// libsecret's `secret_password_clear`: the search, then every delete sent at once. Returns
    /// `false`, having deleted nothing, where the full delete (`BlockingCall.deleteItems`) must
    /// run: locked items, or nothing found in a keyring that is locked (or, on KeePassXC, a
    /// locked keyring before the search, which it would hold).
    func deleteWithoutBlocking(forKey key: String, options: SecureStoreOptions, _ connection: SecretServiceConnection) async throws -> Bool {
        let selection = attributes(key: key, options: options, isSynchronizable: nil)
        guard let found = try await connection.searchItemsUnlessLocked(selection, timeout: timeout) else { return false }
        guard found.locked.isEmpty else { return false }
        guard !found.unlocked.isEmpty else {
            // A miss is the whole answer in an unlocked keyring.
            return try await !connection.missMayBeHiddenByLock(timeout: timeout)
        }
        let replies = try await connection.callEach(found.unlocked.map { ($0, GLibValues.tuple([])) }, "org.freedesktop.Secret.Item", "Delete",
                                                    replyType: "(o)", autoStart: false, timeout: timeout) { body in GLibValues.tupleString(body, at: 0) }
        var prompts: [(prompt: String, item: String)] = []
        for (reply, item) in zip(replies, found.unlocked) {
            switch reply {
            case .success(let prompt) where prompt != "/": prompts.append((prompt, item))
            case .success: continue
            case .failure(let error) where ServiceErrors.isNoSuchObject(error): continue   // deleted meanwhile
            case .failure(let error) where error.is(ServiceErrors.secret, ServiceErrors.isLocked): return false   // held back: the full delete
            case .failure(let error): throw error
            }
        }
        guard !prompts.isEmpty else { return true }
        // KeePassXC answers every delete with a prompt, which may show a dialog (a delete that
        // bypasses its recycle bin); nothing is deleted until it runs, and the delete counts
        // once the item is gone (`completeDeletion`). A refused one fails the delete, and the
        // prompts not run yet are dismissed: their items stay too.
        if connection.hearsPrompts {
            for (index, prompt) in prompts.enumerated() {
                do {
                    try await connection.completeDeletion(promptAt: prompt.prompt, of: prompt.item, timeout: timeout)
                } catch let error as GLibError where error.remoteName == GLibError.dismissedPromptName {
                    prompts.dropFirst(index + 1).forEach { connection.dismissPrompt(at: $0.prompt, timeout: timeout) }
                    throw error
                }
            }
            return true
        }
        // Without the prompts' signals: libsecret's prompt, on a worker thread.
        try await withBlockingCall(on: connection) { [prompts] call in
            for (index, prompt) in prompts.enumerated() {
                do {
                    try call.connection.completeDeletion(promptAt: prompt.prompt, of: prompt.item, cancellation: call.cancellation)
                } catch let error as GLibError where error.remoteName == GLibError.dismissedPromptName {
                    prompts.dropFirst(index + 1).forEach { call.connection.dismissPrompt(at: $0.prompt, timeout: self.timeout) }
                    throw error
                }
            }
        }
        return true
    }

    /// One attempt at `setItem`: find the key's items (unless `found` already has), then
    /// create or replace.
    private func write(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                       _ recovery: WriteRecovery?, _ call: BlockingCall, found: [(isSynchronizable: Bool, found: BlockingCall.Found)]? = nil) throws {
        let label = ItemSchema.label(applicationID: applicationID, key: key, options: options)
        let existing = try found ?? options.synchronizable.matchingStates.map { isSynchronizable in
            (isSynchronizable, try call.search(attributes(key: key, options: options, isSynchronizable: isSynchronizable)))
        }
        try checkSessionBeforeWriting(existing.flatMap { $0.1.unlocked }, options, call)
        for (isSynchronizable, found) in ItemSchema.writeTargets(existing, options, isEmpty: { $0.all.isEmpty }) {
            try call.ensureUnlocked(found.locked)
            if let recovery, ProviderQuirks.writesNeedReadBack(call.connection.provider) {
                try recovery.rememberOnce(isSynchronizable) { try call.previous(of: found.all.first) }
            }
            let itemAttributes = itemAttributes(key: key, options: options, isSynchronizable: isSynchronizable)
            // The same item, only a new value: replace its secret. (KeePassXC 2.7.4 answers
            // CreateItem(replace: true) over an existing item with an "Access Request" dialog,
            // even with ConfirmAccessItem off; SetSecret asks nothing. Fixed upstream in 2.7.6.
            // GNOME Keyring does not announce SetSecret, so there CreateItem replaces it.) On
            // KeePassXC a new accessibility keeps the item too (`changesAccessibilityInPlace`).
            // Otherwise (new attributes, no item, or one deleted meanwhile by another process) a
            // new item, which exists before the old one goes, so the key never reads as missing.
            let replacesSecrets = ProviderQuirks.overwritesBySettingTheSecret(call.connection.provider)
            let path: String
            do {
                path = try found.all.first.flatMap { replacesSecrets ? try call.replaceSecretIfSameItem($0, itemAttributes, value, contentType) : nil }
                    ?? call.createItem(label: label, attributes: itemAttributes, value: value, contentType: contentType)
            } catch let error as GLibError where ProviderQuirks.isKWalletsLostSession(error) {
                try removeItemsMadeWithoutSecret(itemAttributes, besides: found.all, recovery, call)
                throw error
            }
            do {
                try call.checkStored(value, at: path)
            } catch let error as GLibError where ServiceErrors.isGarbled(error) {
                // Only bytes read back wrong make the write unverified. A read-back that timed
                // out or was cancelled says nothing of what was stored: the item is left alone.
                call.logger.debug("The item read back other bytes than were written; writing again on a new connection", metadata: [
                    LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.provider: "\(call.connection.provider)",
                ])
                recovery?.markUnverified()
                throw error
            }
            for stale in found.all where stale != path {
                try call.deleteItem(at: stale)
            }
        }
    }
}
#endif
