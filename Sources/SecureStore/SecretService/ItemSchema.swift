#if canImport(CLibSecret)
/// How SecureStore's items look in a keyring, the same for both libsecret backends: their
/// attributes (``SecretServiceBackend/Attribute``), labels, content types, and the names that
/// serialise writes to one key.
enum ItemSchema {
    typealias Attribute = SecretServiceBackend.Attribute

    /// The attributes that select items: the key's item(s), or with `key: nil` the service's.
    /// `isSynchronizable: nil` follows `options.synchronizable` (`.any` leaves it out).
    static func attributes(applicationID: String, key: String?, options: SecureStoreOptions, isSynchronizable: Bool?) -> [String: String] {
        var attributes = namespace(applicationID: applicationID, options.accessGroup)
        attributes[Attribute.schema] = SecretServiceBackend.schemaName
        attributes[Attribute.service] = options.service
        if let key { attributes[Attribute.key] = key }
        let states = isSynchronizable.map { [$0] } ?? options.synchronizable.matchingStates
        if states.count == 1 { attributes[Attribute.synchronizable] = states[0] ? "true" : "false" }
        return attributes
    }

    /// The attribute that keeps items apart: the access group's, or else the application's.
    /// An item has one of the two, so a search by either never finds the other kind.
    static func namespace(applicationID: String, _ accessGroup: String?) -> [String: String] {
        accessGroup.map { [Attribute.accessGroup: $0] } ?? [Attribute.application: applicationID]
    }

    /// An item's label: `application / service / key` (`group / service / key` for a group's).
    static func label(applicationID: String, key: String, options: SecureStoreOptions) -> String {
        "\(options.accessGroup ?? applicationID) / \(options.service) / \(key)"
    }

    /// A record of an item's attributes, values left out, for tests and tools.
    static func record(_ attributes: [String: String]) -> ItemRecord {
        ItemRecord(
            application: attributes[Attribute.application], accessGroup: attributes[Attribute.accessGroup],
            service: attributes[Attribute.service] ?? "", key: attributes[Attribute.key] ?? "",
            accessible: attributes[Attribute.accessible].flatMap(KeychainAccessible.init(expoName:)) ?? .whenUnlocked,
            isSynchronizable: attributes[Attribute.synchronizable] == "true")
    }

    /// The name that serialises writes to one key within a process, for any backend on these
    /// attributes. NUL cannot occur in any part (validated), so the name is unambiguous.
    static func lockName(applicationID: String, key: String, options: SecureStoreOptions) -> ExactName {
        let namespace = options.accessGroup.map { "group\u{0}\($0)" } ?? "application\u{0}\(applicationID)"
        return ExactName("\(namespace)\u{0}\(options.service)\u{0}\(key)")
    }

    /// Which of a key's synchronizable states a write updates, given what each state holds:
    /// the one `options` names, or with `.any` every state that has items (with none, a
    /// non-synchronizable item is made).
    static func writeTargets<Found>(_ existing: [(Bool, Found)], _ options: SecureStoreOptions,
                                    isEmpty: (Found) -> Bool) -> [(Bool, Found)] {
        guard options.synchronizable == .any else { return existing }
        let targets = existing.filter { !isEmpty($0.1) }
        return targets.isEmpty ? [existing[0]] : targets
    }

    /// The content type an item is stored with: the kind's, except that text the providers
    /// would change as text is labelled as bytes: exactness wins over the label. KWallet cuts
    /// `text/*` secrets at the first NUL, and KWallet and KeePassXC both drop a leading byte
    /// order mark (Qt's `QString::fromUtf8`). gnome-keyring ignores the label and reports
    /// `text/plain` for every secret.
    static func contentType(of value: [UInt8], kind: ValueKind) -> String {
        guard kind == .text else { return kind.contentType }
        let changedAsText = value.contains(0) || value.starts(with: [0xEF, 0xBB, 0xBF])
        return changedAsText ? ValueKind.bytes.contentType : kind.contentType
    }
}
#endif
