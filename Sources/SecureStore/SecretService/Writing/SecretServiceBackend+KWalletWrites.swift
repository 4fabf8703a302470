#if canImport(CLibSecret)
extension SecretServiceBackend {
    // MARK: - KWallet's broken key exchange (see `ProviderQuirks.writesNeedReadBack`)

    /// On KWallet, before the first write on a connection whose session is not verified yet
    /// (see `SecretServiceConnection.isSessionVerified`), one secret is read, twice: one of the
    /// key's items, or another of the service's. A session whose key exchange went wrong fails
    /// that (`ServiceErrors.garbledSecret` replaces the connection), and is found before a write
    /// on it stores garbage or leaves an item with no secret, which a read in another process
    /// could return. With nothing to read, the write's own read-back finds it.
    func checkSessionBeforeWriting(_ keysItems: [String], _ options: SecureStoreOptions, _ call: BlockingCall) throws {
        guard ProviderQuirks.writesNeedReadBack(call.connection.provider), !call.connection.isSessionVerified else { return }
        let path = try keysItems.first ?? call.search(attributes(key: nil, options: options, isSynchronizable: nil)).unlocked.first
        guard let path else { return }
        try call.secret(ofItemAt: path)?.zero()
    }

    /// KWallet refuses a secret it cannot decrypt (`ProviderQuirks.isKWalletsLostSession`) only
    /// after `CreateItem` has made the item, which then reads as an empty value: removed here,
    /// before the write is tried again. (A refused `SetSecret` leaves the value as it was.) When
    /// that fails too, the write counts as unverified (see `WriteRecovery`).
    func removeItemsMadeWithoutSecret(_ attributes: [String: String], besides existing: [String],
                                      _ recovery: WriteRecovery?, _ call: BlockingCall) throws {
        do {
            for made in try call.search(attributes).all where !existing.contains(made) {
                try call.deleteItem(at: made)
            }
        } catch {
            recovery?.markUnverified()
            throw error
        }
    }
}
#endif
