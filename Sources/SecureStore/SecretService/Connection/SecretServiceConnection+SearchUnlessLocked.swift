#if canImport(CLibSecret)
import CLibSecret

/// The search that reads, deletes and listings start with. On a provider that holds
/// `Service.SearchItems` while its keyring is locked (`ProviderQuirks.mustCheckLockedBeforeSearching`),
/// the default collection's `Locked` must be known before the search goes out, and yet both
/// cost one round trip.
extension SecretServiceConnection {
    /// The paths of the items whose attributes include all of `attributes`, or `nil`, having
    /// searched nothing, when the provider would hold the search and the default collection is
    /// locked. On other providers, `searchItems`. Blocks no thread.
    ///
    /// A remembered lock state (see `LockStateMemory`) leaves one `SearchItems`. Otherwise one
    /// batch: the default collection's `Locked`, then `Collection.SearchItems` on each of the
    /// service's collections (KeePassXC answers it at once, with nothing from a locked one:
    /// what its `Service.SearchItems` finds once it searches), then the service's `Collections`,
    /// which must still be the collections searched; when it is not, the search is made again
    /// with `Service.SearchItems`, which the unlocked default collection no longer holds. Before
    /// the collections are known (a new connection), the default collection's alias is searched:
    /// a service that lists one collection has searched it all.
    /// Every item found is listed as unlocked: an item that the service holds back from this
    /// client (KeePassXC's "confirm access") answers a read or a write with `IsLocked`.
    func searchItemsUnlessLocked(_ attributes: [String: String], timeout: Duration) async throws -> (unlocked: [String], locked: [String])? {
        guard ProviderQuirks.mustCheckLockedBeforeSearching(provider) else { return try await searchItems(attributes, timeout: timeout) }
        if remembersLockState, let isLocked = lockState.recall() {
            return isLocked ? nil : try await searchItems(attributes, timeout: timeout)
        }
        // Before the service's collections are known, the default one is searched through its
        // alias: when the service lists one collection, that is all there is to search.
        let cached = collectionPaths.withLock { $0 }
        let collections = cached ?? [Self.defaultCollection]
        let generation = SecretServiceSignals.currentCollectionGeneration
        let replies = try await callEach(
            [MethodCall(path: Self.defaultCollection, interface: "org.freedesktop.DBus.Properties", method: "Get",
                        arguments: GLibValues.propertyGetParameters("org.freedesktop.Secret.Collection", "Locked"), replyType: "(v)")]
                + collections.map { path in
                    MethodCall(path: path, interface: "org.freedesktop.Secret.Collection", method: "SearchItems",
                               arguments: GLibValues.tuple([makeStringDictionary(attributes)]), replyType: "(ao)")
                }
                + [MethodCall(path: Self.servicePath, interface: "org.freedesktop.DBus.Properties", method: "Get",
                              arguments: GLibValues.propertyGetParameters("org.freedesktop.Secret.Service", "Collections"), replyType: "(v)")],
            timeout: timeout
        ) { index, body -> SearchReply in
            switch index {
            case 0: .locked(GLibValues.takeLockedFlag(GLibValues.unboxPropertyReply(g_variant_ref(body))))
            case collections.count + 1: .collections(Self.collectionList(inPropertyReply: body))
            default: .found(GLibValues.objectPaths(g_variant_get_child_value(body, 0)))
            }
        }
        let isLocked: Bool, hasDefault: Bool
        switch replies[0] {
        case .success(.locked(let locked)): (isLocked, hasDefault) = (locked, true)
        case .failure(let error) where ServiceErrors.isNoSuchObject(error): (isLocked, hasDefault) = (false, false)   // no default collection hides nothing
        case .failure(let error): throw error
        case .success: throw GLibError.protocolViolation("Locked: no flag")
        }
        if remembersLockState { lockState.remember(isLocked, readAt: generation) }
        guard case .success(.collections(let now)) = replies.last else {
            return isLocked ? nil : try await searchItems(attributes, timeout: timeout)
        }
        if now != cached { collectionPaths.withLock { $0 = now } }
        if isLocked { return nil }
        let searchedAll = now == collections || (cached == nil && hasDefault && now.count == 1)
        // With no collection at all, KeePassXC would hold the service's search too.
        if now.isEmpty { return ([], []) }
        guard searchedAll else {
            // A new connection's search of the alias left collections out: once more, now that
            // they are known.
            return try await cached == nil ? searchItemsUnlessLocked(attributes, timeout: timeout) : searchItems(attributes, timeout: timeout)
        }
        var found: [String] = []
        for reply in replies.dropFirst().dropLast() {
            guard case .success(.found(let paths)) = reply else { return try await searchItems(attributes, timeout: timeout) }
            found += paths.filter { !found.contains($0) }
        }
        return (found, [])
    }

    /// Whether an empty answer of `searchItemsUnlessLocked` may come of a locked default
    /// collection (a keyring never unlocked since its daemon started hides its items even from
    /// searches): where the search read `Locked` itself, it has answered that already, so no;
    /// elsewhere the lock state, remembered or read.
    func missMayBeHiddenByLock(timeout: Duration) async throws -> Bool {
        guard !ProviderQuirks.mustCheckLockedBeforeSearching(provider) else { return false }
        return try await isDefaultCollectionLocked(timeout: timeout)
    }

    /// A reply of `searchItemsUnlessLocked`'s batch, decoded.
    private enum SearchReply: Sendable {
        case locked(Bool)
        case found([String])
        case collections([String])
    }

    /// The service's `Collections` property, without blocking a thread.
    private func listCollections(timeout: Duration) async throws -> [String] {
        try await call(Self.servicePath, "org.freedesktop.DBus.Properties", "Get",
                       GLibValues.propertyGetParameters("org.freedesktop.Secret.Service", "Collections"), replyType: "(v)", timeout: timeout) { body in
            Self.collectionList(inPropertyReply: body)
        }
    }

    /// The object paths in a `Properties.Get` reply of `Collections` (`(v)` holding `ao`);
    /// empty for anything else.
    private static func collectionList(inPropertyReply body: OpaquePointer) -> [String] {
        guard let value = GLibValues.unboxPropertyReply(g_variant_ref(body)) else { return [] }
        guard String(cString: g_variant_get_type_string(value)) == "ao" else {
            g_variant_unref(value)
            return []
        }
        return GLibValues.objectPaths(value)
    }
}
#endif
