/// Moves one application's items from one backend to another: each copied, read back from the
/// destination and compared, and only then deleted from the source; never when the two
/// backends turn out to be one store.
struct ItemMove: Sendable {
    let source: any SecureStoreBackend
    let destination: any SecureStoreBackend
    /// What the source holds of the application (`nil`) or of an access group, values left out.
    let records: @Sendable (_ accessGroup: String?) async throws -> [ItemRecord]

    func run(accessGroups: [String], afterCopying: (@Sendable (_ key: String) async throws -> Void)?) async throws -> SandboxMoveReport {
        for accessGroup in accessGroups { try Validation.checkNameIsExact(accessGroup, "accessGroup") }
        try await proveDistinct()
        var report = SandboxMoveReport()
        for accessGroup in [nil] + accessGroups.map(Optional.some) {
            let records = try await records(accessGroup)
            let itemsPerKey = Dictionary(grouping: records, by: Self.searchedAs).mapValues(\.count)
            var leftKeys = Set<SearchedName>()
            for record in records {
                try Task.checkCancellation()
                // Another program's item whose names are not ours (a control character, say).
                guard Validation.isValidKey(record.key), (try? Validation.checkNameIsExact(record.service, "service")) != nil else { continue }
                // Several items answer a search for this key (an overwrite cut short elsewhere,
                // or KeePassXC's search, whose `$` also matches before a final newline, finding
                // another program's `mail\n` for `mail`): a read would give one of them and a
                // delete would remove them all. They stay on the host, for a person to sort out.
                guard itemsPerKey[Self.searchedAs(record)] == 1 else {
                    if leftKeys.insert(Self.searchedAs(record)).inserted { report.leftOnHost += 1 }
                    continue
                }
                // Exactly this item's state: .yes or .no, never .any.
                let options = SecureStoreOptions(
                    keychainService: record.service, keychainAccessible: record.accessible,
                    synchronizable: record.isSynchronizable ? .yes : .no, accessGroup: accessGroup)
                guard var value = try await source.getItem(forKey: record.key, options: options) else { continue }
                defer { wipe(&value) }
                if var present = try await destination.getItem(forKey: record.key, options: options) {
                    wipe(&present)
                    report.alreadyInSandbox += 1
                } else {
                    let kind: ValueKind = String(validating: value, as: UTF8.self) == nil ? .bytes : .text
                    try await destination.setItem(value, kind: kind, forKey: record.key, options: options)
                    var readBack = try await destination.getItem(forKey: record.key, options: options)
                    let isSame = readBack == value
                    if readBack != nil { wipe(&readBack!) }
                    guard isSame else {
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

    /// What a search for a record's item finds it by, as the most lenient provider matches:
    /// KeePassXC's `$` also matches before one final newline.
    private struct SearchedName: Hashable {
        var service: String, key: String, isSynchronizable: Bool
    }

    private static func searchedAs(_ record: ItemRecord) -> SearchedName {
        func lenient(_ name: String) -> String { name.hasSuffix("\n") ? String(name.dropLast()) : name }
        return SearchedName(service: lenient(record.service), key: lenient(record.key), isSynchronizable: record.isSynchronizable)
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
