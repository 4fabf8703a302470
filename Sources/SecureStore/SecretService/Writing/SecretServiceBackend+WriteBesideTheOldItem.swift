#if canImport(CLibSecret)
import Logging

extension SecretServiceBackend {
    /// KWallet's end of `writeInOneRoundTrip`: `CreateItem(replace: false)` has made the item
    /// at `path`, and `found` is what the search sent with it saw of the key before. Nothing
    /// old was replaced, so the undo (see `WriteRecovery`) still has the previous value to put
    /// back.
    ///
    /// A new key (the search found nothing) is read back together with a second search, one
    /// round trip: a read-back with other bytes fails the write as unverified, as the full
    /// write's does. When either search found other items of the key (the key existed, or
    /// another process wrote it meanwhile), the full write settles on one item
    /// (`settleOnOneItem`).
    func finishWriteBesideTheOldItem(_ path: String, found: (unlocked: [String], locked: [String]), _ value: [UInt8],
                                     contentType: String, forKey key: String, options: SecureStoreOptions,
                                     isSynchronizable: Bool, _ recovery: WriteRecovery?, _ connection: SecretServiceConnection) async throws {
        let earlier = found.unlocked + found.locked
        guard earlier.isEmpty else {
            try await settleOnOneItem(value, contentType: contentType, forKey: key, options: options,
                                      isSynchronizable: isSynchronizable, previousAt: earlier[0], recovery, connection)
            return
        }
        recovery?.rememberOnce(isSynchronizable) { WriteRecovery.Previous(value: nil, accessible: options.keychainAccessible) }
        let selection = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
        let heard = try await connection.readBackAndSearch(path, selection, timeout: timeout)
        switch heard.stored {
        case .success(let stored?):
            defer { stored.zero() }
            guard stored.equals(value) else {
                logger.debug("The item read back other bytes than were written; writing again on a new connection", metadata: [
                    LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.provider: "\(connection.provider)",
                ])
                recovery?.markUnverified()
                throw ServiceErrors.garbledSecret
            }
        case .success(nil):
            break   // deleted since by another client: the write itself succeeded
        case .failure(let error) where ServiceErrors.isNoSuchObject(error):
            break
        case .failure(let error):
            throw error
        }
        if case .success(let now) = heard.found, (now.unlocked + now.locked).allSatisfy({ $0 == path }) { return }
        try await settleOnOneItem(value, contentType: contentType, forKey: key, options: options,
                                  isSynchronizable: isSynchronizable, previousAt: nil, recovery, connection)
    }

    /// Other items of the key beside the one just made: the full write, with a search of its
    /// own, as every writer of the key does. Writers that chose their item from different
    /// lists could each keep one and delete the other's, and lose the key: the service's own
    /// order, from one search, picks the same item for all.
    /// `previousAt`: the key's item before this write, whose value the undo puts back (the
    /// full write's own search may list the new item first).
    private func settleOnOneItem(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                                 isSynchronizable: Bool, previousAt: String?,
                                 _ recovery: WriteRecovery?, _ connection: SecretServiceConnection) async throws {
        logger.debug("Other items of the key beside the one written; settling on one", metadata: [LogKey.key: "\(key)", LogKey.service: "\(options.service)"])
        try await withBlockingCall(on: connection) { call in
            if let previousAt {
                try recovery?.rememberOnce(isSynchronizable) { try call.previous(of: previousAt) }
            }
            try self.write(value, contentType: contentType, forKey: key, options: options, recovery, call)
        }
    }
}
#endif
