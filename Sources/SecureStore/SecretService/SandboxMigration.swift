#if canImport(CLibSecret)
/// What ``SandboxKeyringBackend/moveItems(from:accessGroups:)`` did.
public struct SandboxMigration: Sendable, Hashable {
    /// Items copied into the sandbox keyring, read back equal, then removed from the Secret
    /// Service.
    public var moved = 0
    /// Items the sandbox keyring already held under the same key (copied by an earlier run
    /// that was interrupted, or written since by the app): the sandbox's value is kept, and the
    /// Secret Service's copy removed.
    public var alreadyInSandbox = 0
}

extension SandboxKeyringBackend {
    /// Moves every item of this application (and of `accessGroups`) from the desktop's Secret
    /// Service into this sandbox keyring, in the manner of oo7's `migrate`: each item is
    /// copied, read back from the sandbox keyring and compared, and only then removed from the
    /// Secret Service. Run it again after an interruption (or every start: it is idempotent);
    /// nothing is lost and nothing is doubled. Where the sandbox already holds a key, its value
    /// wins: the app has written it since moving in.
    ///
    /// Before anything moves, the two stores are proven distinct: a canary item written to
    /// each must be absent from the other. Where they cannot be told apart (libsecret would
    /// use the Secret Service for both), nothing moves and the call throws
    /// ``SecureStoreError/Code/keyChain``: a move would delete the only copy.
    ///
    /// An app needs this when it used to run unsandboxed (or as a Flatpak with
    /// `--talk-name=org.freedesktop.secrets`) and now keeps its items in the sandbox keyring:
    /// its old items are still in the desktop's keyring, and the sandbox keyring starts empty.
    /// The sandbox must still be allowed to talk to `org.freedesktop.secrets` for the move;
    /// without that, the call fails with ``SecureStoreError/Code/serviceUnavailable`` and
    /// changes nothing.
    ///
    /// - Parameter secretService: The Secret Service backend of the same application ID.
    public func moveItems(from secretService: SecretServiceBackend, accessGroups: [String] = []) async throws -> SandboxMigration {
        try await moveItems(from: secretService, accessGroups: accessGroups, afterCopying: nil)
    }

    /// The same, calling `afterCopying` between an item's copy and the removal of its
    /// original, so tests can interrupt a move half way.
    @_spi(SecureStoreInternal)
    public func moveItems(
        from secretService: SecretServiceBackend, accessGroups: [String] = [],
        afterCopying: (@Sendable (_ key: String) async throws -> Void)?
    ) async throws -> SandboxMigration {
        guard secretService.applicationID == applicationID else {
            throw SecureStoreError.invalidOptions("The Secret Service backend is for '\(secretService.applicationID)', this keyring for '\(applicationID)'.")
        }
        let move = ItemMove(source: secretService, destination: self) { try await secretService.allRecords(accessGroup: $0) }
        return try await move.run(accessGroups: accessGroups, afterCopying: afterCopying)
    }
}
#endif

/// Moves one application's items from one backend to another: each copied, read back from the
/// destination and compared, and only then deleted from the source; never when the two
/// backends turn out to be one store.
struct ItemMove: Sendable {
    let source: any SecureStoreBackend
    let destination: any SecureStoreBackend
    /// What the source holds of the application (`nil`) or of an access group, values left out.
    let records: @Sendable (_ accessGroup: String?) async throws -> [InMemoryBackend.Record]

    func run(accessGroups: [String], afterCopying: (@Sendable (_ key: String) async throws -> Void)?) async throws -> SandboxMigration {
        for accessGroup in accessGroups { try Validation.checkNameIsExact(accessGroup, "accessGroup") }
        try await proveDistinct()
        var report = SandboxMigration()
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
