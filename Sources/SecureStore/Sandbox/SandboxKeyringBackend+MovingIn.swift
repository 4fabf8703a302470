#if canImport(CLibSecret)
/// The report's former name.
@available(*, deprecated, renamed: "SandboxMoveReport")
public typealias SandboxMigration = SandboxMoveReport

/// What ``SandboxKeyringBackend/moveItems(from:accessGroups:)`` did.
public struct SandboxMoveReport: Sendable, Hashable {
    /// Items copied into the sandbox keyring, read back equal, then removed from the Secret
    /// Service.
    public var moved = 0
    /// Items the sandbox keyring already held under the same key (copied by an earlier run
    /// that was interrupted, or written since by the app): the sandbox's value is kept, and the
    /// Secret Service's copy removed.
    public var alreadyInSandbox = 0
    /// Keys left in the Secret Service, copied nowhere: several of its items answer a search
    /// for the key (an overwrite cut short, or another program's item whose name differs only
    /// by a final newline, which KeePassXC's search also finds), so no one value could be
    /// moved safely. Remove the extra items (`secret-tool search --all application APP_ID`
    /// shows them) and move again.
    public var leftOnHost = 0
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
    /// - Parameters:
    ///   - secretService: The Secret Service backend of the same application ID.
    ///   - accessGroups: The access groups whose items move too.
    public func moveItems(from secretService: SecretServiceBackend, accessGroups: [String] = []) async throws -> SandboxMoveReport {
        try await moveItems(from: secretService, accessGroups: accessGroups, afterCopying: nil)
    }

    /// The same, calling `afterCopying` between an item's copy and the removal of its
    /// original, so tests can interrupt a move half way.
    @_spi(SecureStoreInternal)
    public func moveItems(
        from secretService: SecretServiceBackend, accessGroups: [String] = [],
        afterCopying: (@Sendable (_ key: String) async throws -> Void)?
    ) async throws -> SandboxMoveReport {
        guard secretService.applicationID.isExactly(applicationID) else {
            throw SecureStoreError.invalidOptions("The Secret Service backend is for '\(secretService.applicationID)', this keyring for '\(applicationID)'.")
        }
        let move = ItemMove(source: secretService, destination: self) { try await secretService.allRecords(accessGroup: $0) }
        return try await move.run(accessGroups: accessGroups, afterCopying: afterCopying)
    }
}
#endif
