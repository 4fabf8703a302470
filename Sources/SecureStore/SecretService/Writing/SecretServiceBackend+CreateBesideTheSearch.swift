#if canImport(CLibSecret)
import CLibSecret
import Logging

extension SecretServiceBackend {
    /// What the write's first search, made without blocking a thread, left to do.
    enum FirstSearch: Sendable {
        /// The key was new, and the item is made: nothing is left.
        case written
        /// The key's items, for the write's first attempt.
        case found([(isSynchronizable: Bool, found: BlockingCall.Found)])
        /// Nothing searched (or the collection is locked): the write searches itself.
        case notSearched
    }

    /// The write's first search where the search needs the lock check first (KeePassXC): both
    /// then cost one round trip (`searchItemsUnlessLocked`) instead of two. Where `CreateItem`
    /// makes nothing until its prompt runs (`ProviderQuirks.createWaitsForItsPrompt`), it goes
    /// out with the search (see `createBesideTheSearch`). Nothing is searched when
    /// `NonBlockingWriteSlots` are all taken.
    func searchBeforeWriting(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                             _ connection: SecretServiceConnection) async throws -> FirstSearch {
        guard ProviderQuirks.mustCheckLockedBeforeSearching(connection.provider) else { return .notSearched }
        return try await NonBlockingWriteSlots.withSlot {
            try await searchInSlot(value, contentType: contentType, forKey: key, options: options, connection)
        } ?? .notSearched
    }

    private func searchInSlot(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                              _ connection: SecretServiceConnection) async throws -> FirstSearch {
        if ProviderQuirks.createWaitsForItsPrompt(connection.provider), options.synchronizable != .any {
            return try await createBesideTheSearch(value, contentType: contentType, forKey: key, options: options, connection)
        }
        var existing: [(isSynchronizable: Bool, found: BlockingCall.Found)] = []
        for isSynchronizable in options.synchronizable.matchingStates {
            let selection = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
            guard let found = try await connection.searchItemsUnlessLocked(selection, timeout: timeout) else { return .notSearched }
            existing.append((isSynchronizable, BlockingCall.Found(unlocked: found.unlocked, locked: found.locked)))
        }
        return .found(existing)
    }

    /// A new key in libsecret's two round trips where `CreateItem` makes nothing until its
    /// prompt runs: `CreateItem` (without `replace`) goes out with the search, and its prompt is
    /// run only when the search found no item of the key in an unlocked collection. Otherwise
    /// the prompt is dismissed, which makes nothing, and the write goes on with what the search
    /// found (an overwrite keeps its item: `SetSecret`), or from the start when locked.
    private func createBesideTheSearch(_ value: [UInt8], contentType: String, forKey key: String, options: SecureStoreOptions,
                                       _ connection: SecretServiceConnection) async throws -> FirstSearch {
        let isSynchronizable = options.synchronizable.matchingStates[0]
        let selection = attributes(key: key, options: options, isSynchronizable: isSynchronizable)
        let label = ItemSchema.label(applicationID: applicationID, key: key, options: options)
        let itemAttributes = itemAttributes(key: key, options: options, isSynchronizable: isSynchronizable)
        // Sent just before the search's batch: the same round trip.
        let creating = try connection.sendCreateItem(inCollection: SecretServiceConnection.defaultCollection, label: label, attributes: itemAttributes,
                                                     value: value, contentType: contentType, timeout: timeout)
        let found: (unlocked: [String], locked: [String])?
        do {
            found = try await connection.searchItemsUnlessLocked(selection, timeout: timeout)
        } catch {
            if let created = try? await creating.replies()[0].get() { dismissUnwanted(created, connection) }
            throw error
        }
        let created: (item: String, prompt: String)?
        do {
            created = try await creating.replies()[0].get()
        } catch {
            logger.debug("CreateItem beside the search failed; the write makes the item itself", metadata: [
                LogKey.key: "\(key)", LogKey.service: "\(options.service)", LogKey.reason: "\(error)",
            ])
            created = nil
        }
        if let found, found.unlocked.isEmpty, found.locked.isEmpty, let created {
            // A new key in an unlocked collection: the prompt makes the item.
            if created.prompt != "/" && connection.hearsPrompts {
                // Dismissed, it made nothing: as the blocking prompt does, that is an error.
                guard try await !connection.runPrompt(at: created.prompt, timeout: timeout).dismissed else { throw GLibError.dismissedPrompt }
            } else if created.prompt != "/" {
                _ = try await withBlockingCall(on: connection) { try $0.connection.itemCreated(byPromptAt: created.prompt, cancellation: $0.cancellation) }
            }
            return .written
        }
        created.map { dismissUnwanted($0, connection) }
        guard let found else { return .notSearched }   // locked: the write unlocks first
        // An item made at once (no prompt) is one more of the key: the write removes it.
        let madeAtOnce = created.flatMap { $0.prompt == "/" ? [$0.item] : nil } ?? []
        return .found([(isSynchronizable, BlockingCall.Found(unlocked: found.unlocked + madeAtOnce, locked: found.locked))])
    }

    /// Dismisses the prompt of a `CreateItem` that is not wanted (it then makes nothing).
    private func dismissUnwanted(_ created: (item: String, prompt: String), _ connection: SecretServiceConnection) {
        if created.prompt != "/" { connection.dismissPrompt(at: created.prompt, timeout: timeout) }
    }
}
#endif
