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
        var report = SandboxMigration()
        for accessGroup in [nil] + accessGroups.map(Optional.some) {
            if let accessGroup { try Validation.checkNameIsExact(accessGroup, "accessGroup") }
            for record in try await secretService.allRecords(accessGroup: accessGroup) {
                try Task.checkCancellation()
                // Exactly this item's state: .yes or .no, never .any.
                let options = SecureStoreOptions(
                    keychainService: record.service, keychainAccessible: record.accessible,
                    synchronizable: record.isSynchronizable ? .yes : .no, accessGroup: accessGroup)
                guard Validation.isValidKey(record.key),
                      var value = try await secretService.getItem(forKey: record.key, options: options) else { continue }
                defer { wipe(&value) }
                if try await getItem(forKey: record.key, options: options) != nil {
                    report.alreadyInSandbox += 1
                } else {
                    let kind: ValueKind = String(validating: value, as: UTF8.self) == nil ? .bytes : .text
                    try await setItem(value, kind: kind, forKey: record.key, options: options)
                    guard try await getItem(forKey: record.key, options: options) == value else {
                        throw SecureStoreError(.keyChain, "The sandbox keyring did not read back what was copied into it under '\(record.key)'; the Secret Service's item was kept.")
                    }
                    report.moved += 1
                }
                try await afterCopying?(record.key)
                try await secretService.deleteItem(forKey: record.key, options: options)
            }
        }
        return report
    }
}
#endif
