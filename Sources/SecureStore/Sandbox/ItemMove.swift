/// Moves one application's items from one backend to another: each copied, read back from the
/// destination and compared, and only then deleted from the source; never when the two
/// backends turn out to be one store.
struct ItemMove: Sendable {
    let source: any SecureStoreBackend
    let destination: any SecureStoreBackend
    /// What the source holds of the application (`nil`) or of an access group, values left out.
    let records: @Sendable (_ accessGroup: String?) async throws -> [InMemoryBackend.Record]

    func run(accessGroups: [String], afterCopying: (@Sendable (_ key: String) async throws -> Void)?) async throws -> SandboxMoveReport {
        for accessGroup in accessGroups { try Validation.checkNameIsExact(accessGroup, "accessGroup") }
        try await proveDistinct()
        var report = SandboxMoveReport()
        for accessGroup in [nil] + accessGroups.map(Optional.some) {
            for record in try await records(accessGroup) {
                try Task.checkCancellation()
                // Exactly this item's state: .yes or .no, never .any.
                let options = SecureStoreOptions(
                    keychainService: record.service, keychainAccessible: record.accessible,
                    synchronizable: record.isSynchronizable ? .yes : .no, accessGroup: accessGroup)
                guard Validation.isValidKey(record.key),
                      var value = try await source.getItem(forKey: record.key, options: options) else { continue }
                defer { wipe(&value) }
                if try await destination.getItem(forKey: record.key, options: options) != nil {
                    report.alreadyInSandbox += 1
                } else {
                    let kind: ValueKind = String(validating: value, as: UTF8.self) == nil ? .bytes : .text
                    try await destination.setItem(value, kind: kind, forKey: record.key, options: options)
                    guard try await destination.getItem(forKey: record.key, options: options) == value else {
                        throw SecureStoreError(.keyChain, "The sandbox keyring did not read back what was copied into it under '\(record.key)'; the Secret Service's item was kept.")
                    }
                    report.moved += 1
                }
                try await afterCopying?(record.key)
                try await source.deleteItem(forKey: record.key, options: options)
            }
        }
        return report
    }

    /// Writes a canary item to each backend in turn and checks that the other does not see it.
    /// Throws, having changed nothing but the canaries (which it removes), when either does.
    func proveDistinct() async throws {
        let options = SecureStoreOptions(keychainService: "dev.securestore.canary")
        let key = "canary-\(UInt64.random(in: .min ... .max))"
        for (writer, reader) in [(destination, source), (source, destination)] {
            try await writer.setItem(Array("canary".utf8), kind: .text, forKey: key, options: options)
            let seen = try await reader.containsItem(forKey: key, options: options)
            try await writer.deleteItem(forKey: key, options: options)
            guard !seen else {
                throw SecureStoreError(.keyChain, "The sandbox keyring and the Secret Service are one store here (an item written to one is seen in the other), so moving would delete the only copy; nothing was moved.")
            }
        }
    }
}
