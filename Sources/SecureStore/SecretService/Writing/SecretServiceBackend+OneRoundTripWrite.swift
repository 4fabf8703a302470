#if canImport(CLibSecret)
import Logging

extension SecretServiceBackend {
    /// `setItem`'s common case in one round trip, with calls that block no thread: the search
    /// for the key's items goes out together with `CreateItem(replace: true)`, which replaces an
    /// item of exactly these attributes in place, as libsecret's own store does. What the search
    /// found besides (the key under another accessibility) is deleted afterwards, so the key
    /// never reads as missing, and one item is left.
    ///
    /// Returns `false` where the full write (`write`, on a worker thread) must run: on providers
    /// that `ProviderQuirks.writesInOneRoundTrip` leaves out, when `NonBlockingWriteSlots` are
    /// all taken, with `synchronizable: .any` (the write's target depends on what the
    /// search finds), and when `CreateItem` failed (a locked keyring, no default collection:
    /// nothing was made) or the search did (the item may have been made; the full write then
    /// writes the same value again).
    func writeInOneRoundTrip(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                             _ connection: SecretServiceConnection) async throws -> Bool {
        guard ProviderQuirks.writesInOneRoundTrip(connection.provider), options.synchronizable != .any else { return false }
        return try await NonBlockingWriteSlots.withSlot {
            try await writeInSlot(value, contentType: contentType, forKey: key, options: options, isSynchronizable: options.synchronizable.matchingStates[0], connection)
        } ?? false
    }

    private func writeInSlot(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                             isSynchronizable: Bool, _ connection: SecretServiceConnection) async throws -> Bool {
        let selection = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
        let itemAttributes = itemAttributes(key: key, options: options, isSynchronizable: isSynchronizable)
        let sent = try await connection.searchAndCreateItem(
            selection, inCollection: SecretServiceConnection.defaultCollection, label: ItemSchema.label(applicationID: applicationID, key: key, options: options),
            attributes: itemAttributes, value: value, contentType: contentType, replace: true, timeout: timeout)
        let path: String
        switch sent.created {
        case .success(let created) where created.prompt == "/":
            path = created.item
        case .success(let created):
            path = try await withBlockingCall(on: connection) { try $0.connection.itemCreated(byPromptAt: created.prompt, cancellation: $0.cancellation) }
        case .failure(let error) where ServiceErrors.isTimeout(error) || ServiceErrors.needsNewConnection(error):
            throw error
        case .failure(let error):
            logger.debug("CreateItem failed; writing again with blocking calls", metadata: [
                LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.reason: "\(error.message)",
            ])
            return false
        }
        guard case .success(let found) = sent.found else {
            logger.debug("The write's search failed; writing again with blocking calls", metadata: [LogKey.key: "\(key)", LogKey.service: "\(options.service)"])
            return false
        }
        let stale = (found.unlocked + found.locked).filter { $0 != path }
        guard !stale.isEmpty else { return true }
        let isNew = !found.unlocked.contains(path) && !found.locked.contains(path)
        try await withBlockingCall(on: connection) { call in
            do {
                try call.ensureUnlocked(found.locked.filter { $0 != path })
            } catch {
                // The other items cannot be removed: take a new item back rather than leave the
                // key with two values, one of them locked.
                if isNew { try? call.deleteItem(at: path) }
                throw error
            }
            for path in stale {
                try call.deleteItem(at: path)
            }
        }
        return true
    }
}
#endif
