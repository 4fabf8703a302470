#if canImport(CLibSecret)
extension SecretServiceBackend {
    // MARK: - Internal, for tests and tools

    /// What the keyring records about this application's items under (service, key), values
    /// left out; one entry per item.
    func records(service: String, key: String, accessGroup: String? = nil) async throws -> [ItemRecord] {
        let options = SecureStoreOptions(keychainService: service, synchronizable: .any, accessGroup: accessGroup)
        return try await withConnection { connection in
            let paths = try await self.itemPaths(key: key, options: options, connection)
            return try await connection.attributes(ofItemsAt: paths, timeout: self.timeout).values.map(ItemSchema.record)
        }
    }

    /// What the keyring records about every item of this application (or with `accessGroup`,
    /// of that group), whatever its service; values left out. A keyring whose lock hides its
    /// items throws rather than answer "none".
    func allRecords(accessGroup: String? = nil) async throws -> [ItemRecord] {
        try await withConnection { connection in
            let attributes = [Attribute.schema: Self.schemaName].merging(ItemSchema.namespace(applicationID: self.applicationID, accessGroup)) { $1 }
            let found = try await connection.searchItems(attributes, timeout: self.timeout)
            let paths = found.unlocked + found.locked
            if paths.isEmpty, try await connection.isDefaultCollectionLocked(timeout: self.timeout) {
                throw BlockingCall.hiddenByLock
            }
            return try await connection.attributes(ofItemsAt: paths, timeout: self.timeout).values.map(ItemSchema.record)
        }
    }

    /// Deletes every item of this application (or with `accessGroup`, of that group),
    /// whatever its service.
    func deleteEverything(accessGroup: String? = nil) async throws {
        try await withBlockingCall { call in
            try call.deleteItems(matching: [Attribute.schema: Self.schemaName].merging(ItemSchema.namespace(applicationID: self.applicationID, accessGroup)) { $1 })
        }
    }
}
#endif
