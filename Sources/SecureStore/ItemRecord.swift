/// What a keyring holds about an item, its value left out: what `InMemoryBackend.Keyring.records`
/// lists, and what the backends report to tests and tools.
public struct ItemRecord: Sendable, Equatable {
    /// The application whose item it is; `nil` for an access group's item.
    public var application: String?
    /// The access group whose item it is; `nil` for an application's own item.
    public var accessGroup: String?
    public var service: String
    public var key: String
    public var accessible: KeychainAccessible
    public var isSynchronizable: Bool
}
