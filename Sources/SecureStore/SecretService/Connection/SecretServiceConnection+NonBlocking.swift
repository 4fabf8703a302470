#if canImport(CLibSecret)
import CLibSecret

extension SecretServiceConnection {
    // MARK: - Calls that block no thread

    /// The paths of items whose attributes include all of `attributes`, unlocked and locked,
    /// found without blocking a thread (see `call`).
    func searchItems(_ attributes: [String: String], timeout: Duration) async throws -> (unlocked: [String], locked: [String]) {
        try await call(Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems",
                       GLibValues.tuple([makeStringDictionary(attributes)]), replyType: "(aoao)", timeout: timeout) { body in
            (GLibValues.objectPaths(g_variant_get_child_value(body, 0)), GLibValues.objectPaths(g_variant_get_child_value(body, 1)))
        }
    }

    /// What `searchAndCreateItem` heard: the search's items, and the created item's path with
    /// the prompt the service asks to run first (`/` for none), each a reply or an error.
    struct SearchAndCreate: Sendable {
        var found: Result<(unlocked: [String], locked: [String]), GLibError>
        var created: Result<(item: String, prompt: String), GLibError>
    }

    /// `SearchItems` for `selection` and `CreateItem` in the collection at `collectionPath`,
    /// sent together, so that both cost one round trip (see `callEach`). The bus keeps their
    /// order, but nothing here relies on it: the search may list the created item.
    func searchAndCreateItem(_ selection: [String: String], inCollection collectionPath: String, label: String,
                             attributes: [String: String], value: [UInt8], contentType: String, replace: Bool,
                             timeout: Duration) async throws -> SearchAndCreate {
        let create = try createItemArguments(label: label, attributes: attributes, value: value, contentType: contentType, replace: replace)
        let replies = try await callEach([
            MethodCall(path: Self.servicePath, interface: "org.freedesktop.Secret.Service", method: "SearchItems",
                       arguments: GLibValues.tuple([makeStringDictionary(selection)]), replyType: "(aoao)"),
            MethodCall(path: collectionPath, interface: "org.freedesktop.Secret.Collection", method: "CreateItem",
                       arguments: create, replyType: "(oo)"),
        ], timeout: timeout) { index, body -> BatchReply in
            index == 0
                ? .found(unlocked: GLibValues.objectPaths(g_variant_get_child_value(body, 0)), locked: GLibValues.objectPaths(g_variant_get_child_value(body, 1)))
                : .created(item: GLibValues.tupleString(body, at: 0), prompt: GLibValues.tupleString(body, at: 1))
        }
        return SearchAndCreate(
            found: replies[0].flatMap { reply in
                guard case .found(let unlocked, let locked) = reply else { return .failure(.protocolViolation("SearchItems: no paths")) }
                return .success((unlocked, locked))
            },
            created: replies[1].flatMap { reply in
                guard case .created(let item, let prompt) = reply else { return .failure(.protocolViolation("CreateItem: no path")) }
                return .success((item, prompt))
            })
    }

    /// Sends `CreateItem` in the collection at `collectionPath` now (with `replace` where the
    /// provider allows it: `ProviderQuirks.createMayReplace`), without waiting: its reply, once
    /// awaited, is the item's path and the prompt's (`/` for none). Blocks no thread.
    func sendCreateItem(inCollection collectionPath: String, label: String, attributes: [String: String], value: [UInt8],
                        contentType: String, timeout: Duration) throws -> SentCalls<(item: String, prompt: String)> {
        let create = try createItemArguments(label: label, attributes: attributes, value: value, contentType: contentType,
                                             replace: ProviderQuirks.createMayReplace(provider))
        let call = MethodCall(path: collectionPath, interface: "org.freedesktop.Secret.Collection", method: "CreateItem", arguments: create, replyType: "(oo)")
        return sendEach([call], timeout: timeout) { _, body in (GLibValues.tupleString(body, at: 0), GLibValues.tupleString(body, at: 1)) }
    }

    /// A reply of `searchAndCreateItem`'s batch, decoded.
    private enum BatchReply: Sendable {
        case found(unlocked: [String], locked: [String])
        case created(item: String, prompt: String)
    }

    /// The secrets of the unlocked items at `paths`, their bytes exactly, by path; items locked
    /// or gone meanwhile are left out, and one this session cannot decrypt throws (see
    /// `decodeSecrets` and `checkedAgainstSecondReading`). Blocks no thread (see `call`).
    func secrets(ofItemsAt paths: [String], timeout: Duration) async throws -> [String: SecretBytes] {
        let service = ServicePointer(pointer: service)
        // Like libsecret's own lookup: GetSecrets, and no auto-start (a new daemon has no session).
        let read = { @Sendable () async throws -> [String: SecretBytes] in
            try await self.call(Self.servicePath, "org.freedesktop.Secret.Service", "GetSecrets", try self.getSecretsArguments(paths),
                                replyType: "(a{o(oayays)})", autoStart: false, timeout: timeout) { body throws(GLibError) in
                try Self.decodeSecrets(body, of: paths, service: service)
            }
        }
        guard mustReadTwice else { return try await read() }
        // Both readings go out at once: the check costs no second round trip.
        async let second = read()
        let first = try await read()
        return try checkedAgainstSecondReading(first, try await second)
    }

    /// The collection path behind an alias such as `default`, or `nil` when the alias is unset,
    /// asked without blocking a thread (see `call`).
    func collectionPath(forAlias alias: String, timeout: Duration) async throws -> String? {
        try await call(Self.servicePath, "org.freedesktop.Secret.Service", "ReadAlias",
                       GLibValues.tuple([g_variant_new_string(alias)]), replyType: "(o)", timeout: timeout) { body in
            let path = g_variant_get_child_value(body, 0)
            defer { g_variant_unref(path) }
            let string = String(cString: g_variant_get_string(path, nil))
            return string == "/" ? nil : string   // the service's "no such alias"
        }
    }

    /// Whether the collection at `path` (an alias path works too) is locked, asked without
    /// blocking a thread (see `call`). One that does not exist is not (see the blocking variant).
    func isLocked(collectionAt path: String, timeout: Duration) async throws -> Bool {
        do {
            return try await call(path, "org.freedesktop.DBus.Properties", "Get",
                                  GLibValues.propertyGetParameters("org.freedesktop.Secret.Collection", "Locked"), replyType: "(v)", timeout: timeout) { body in
                GLibValues.takeLockedFlag(GLibValues.unboxPropertyReply(g_variant_ref(body)))
            }
        } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
            return false
        }
    }

    /// Whether the item at `path` is there (its `Label` can be read), asked without blocking a
    /// thread (see `call`).
    func itemExists(at path: String, timeout: Duration) async throws -> Bool {
        do {
            try await call(path, "org.freedesktop.DBus.Properties", "Get",
                           GLibValues.propertyGetParameters("org.freedesktop.Secret.Item", "Label"), replyType: "(v)", timeout: timeout) { _ in }
            return true
        } catch let error as GLibError where ServiceErrors.isNoSuchObject(error) {
            return false
        }
    }

    /// Whether the default collection is locked: remembered (see `LockStateMemory`), or read
    /// without blocking a thread and remembered.
    func isDefaultCollectionLocked(timeout: Duration) async throws -> Bool {
        guard remembersLockState else { return try await isLocked(collectionAt: SecretServiceConnection.defaultCollection, timeout: timeout) }
        if let known = lockState.recall() { return known }
        let generation = SecretServiceSignals.currentCollectionGeneration
        let isLocked = try await isLocked(collectionAt: SecretServiceConnection.defaultCollection, timeout: timeout)
        lockState.remember(isLocked, readAt: generation)
        return isLocked
    }

    /// The attributes of the items at `paths`, by path: one D-Bus property call per item (no
    /// item proxies, no unlocking: attributes are readable while a collection is locked), all
    /// sent at once, so the lot costs about one round trip's wait. With `only`, just that
    /// attribute is decoded. Items that vanished meanwhile are left out. Blocks no thread.
    func attributes(ofItemsAt paths: [String], only name: String? = nil, timeout: Duration) async throws -> [String: [String: String]] {
        let replies = try await callEach(
            paths.map { ($0, GLibValues.propertyGetParameters("org.freedesktop.Secret.Item", "Attributes")) },
            "org.freedesktop.DBus.Properties", "Get", replyType: "(v)", timeout: timeout
        ) { body throws(GLibError) -> [String: String] in
            guard let dictionary = GLibValues.unboxPropertyReply(g_variant_ref(body)) else { return [:] }
            defer { g_variant_unref(dictionary) }
            return Self.stringDictionary(dictionary, only: name)
        }
        var attributes: [String: [String: String]] = [:]
        for (path, reply) in zip(paths, replies) {
            switch reply {
            case .success(let found): attributes[path] = found
            case .failure(let error) where ServiceErrors.isNoSuchObject(error): continue   // deleted since the search
            case .failure(let error): throw error
            }
        }
        return attributes
    }

    static let servicePath = "/org/freedesktop/secrets"

    /// libsecret's SecretService is thread-safe; decoding a secret only reads its session, which
    /// lives as long as the connection: `callEach` decodes only while its caller waits, and the
    /// caller holds the connection.
    struct ServicePointer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<SecretService>
    }

    /// Calls `method` on the object at `path` without blocking any thread (see `callEach`).
    func call<T: Sendable>(
        _ path: String, _ interface: String, _ method: String, _ arguments: OpaquePointer, replyType: String,
        autoStart: Bool = true, timeout: Duration, decode: @escaping @Sendable (OpaquePointer) throws(GLibError) -> T
    ) async throws -> T {
        try await callEach([(path, arguments)], interface, method, replyType: replyType, autoStart: autoStart,
                           timeout: timeout, decode: decode)[0].get()
    }

    /// Calls `method` on each object of `calls`, with its arguments, without blocking any thread
    /// (see the general `callEach`), each reply's body of type `replyType`.
    func callEach<T: Sendable>(
        _ calls: [(path: String, arguments: OpaquePointer)], _ interface: String, _ method: String, replyType: String,
        autoStart: Bool = true, timeout: Duration, decode: @escaping @Sendable (OpaquePointer) throws(GLibError) -> T
    ) async throws -> [Result<T, GLibError>] {
        try await callEach(calls.map { MethodCall(path: $0.path, interface: interface, method: method, arguments: $0.arguments, replyType: replyType) },
                           autoStart: autoStart, timeout: timeout) { _, body throws(GLibError) in try decode(body) }
    }

    /// One call of a batch (see `callEach`): the object, the method, its arguments (a floating
    /// `GVariant` tuple, which the call takes) and the type its reply's body must have.
    struct MethodCall {
        let path: String
        let interface: String
        let method: String
        let arguments: OpaquePointer
        let replyType: String
    }

    /// Makes each of `calls` without blocking any thread: the messages are queued on the bus
    /// connection all at once, and a message filter on GDBus's own I/O thread takes each reply,
    /// checks that its body has the call's reply type, and runs `decode` on it there (with the
    /// call's index), unless the batch has ended (see `PendingReplies.receive(at:_:)`). The task
    /// resumes when every call has its reply or error, in the order of `calls`. Throws a GLib
    /// timeout error once `timeout` passes without any reply, and `CancellationError` when the
    /// task is cancelled.
    func callEach<T: Sendable>(
        _ calls: [MethodCall], autoStart: Bool = true, timeout: Duration,
        decode: @escaping @Sendable (_ index: Int, _ body: OpaquePointer) throws(GLibError) -> T
    ) async throws -> [Result<T, GLibError>] {
        try Task.checkCancellation()
        return try await sendEach(calls, autoStart: autoStart, timeout: timeout, decode: decode).replies()
    }

    /// Queues each of `calls` on the bus connection now, as `callEach` does, and returns at once:
    /// the replies are awaited with `SentCalls.replies()`, so that calls sent later go out in
    /// the same round trip.
    func sendEach<T: Sendable>(
        _ calls: [MethodCall], autoStart: Bool = true, timeout: Duration,
        decode: @escaping @Sendable (_ index: Int, _ body: OpaquePointer) throws(GLibError) -> T
    ) -> SentCalls<T> {
        let messages = calls.map { call in
            let message = g_dbus_message_new_method_call(destination, call.path, call.interface, call.method)!
            g_dbus_message_set_body(message, call.arguments)
            if !autoStart { g_dbus_message_set_flags(message, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START) }
            return message
        }
        defer { messages.forEach { g_object_unref(UnsafeMutableRawPointer($0)) } }
        let pending = PendingReplies<T>(count: messages.count, router: replies)
        guard !messages.isEmpty else {
            pending.receiveNone()
            return SentCalls(pending: pending)
        }
        let expected = calls.map { (method: $0.method, replyType: $0.replyType) }
        do {
            let sent = try replies.send(messages, on: bus) { index in
                { reply in
                    pending.receive(at: index) {
                        Result { () throws(GLibError) -> T in
                            let (method, replyType) = expected[index]
                            let body = try reply.get()
                            if body == nil && replyType == "()" {
                                // A reply with no arguments has no body at all.
                                let empty = g_variant_ref_sink(GLibValues.tuple([]))!
                                defer { g_variant_unref(empty) }
                                return try decode(index, empty)
                            }
                            guard let body, String(cString: g_variant_get_type_string(body)) == replyType else {
                                throw GLibError.protocolViolation("\(method) replied with something other than \(replyType)")
                            }
                            return try decode(index, body)
                        }
                    }
                }
            }
            pending.start(calls: sent, timeout: timeout)
        } catch {
            pending.fail(error)
        }
        return SentCalls(pending: pending)
    }

    /// Calls on their way (see `sendEach`).
    struct SentCalls<T: Sendable>: Sendable {
        fileprivate let pending: PendingReplies<T>

        /// Each call's reply or error, in the order sent, once all are in (see `callEach`).
        func replies() async throws -> [Result<T, GLibError>] {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { pending.attach($0) }
            } onCancel: {
                pending.fail(CancellationError())
            }
        }
    }

    // MARK: - Conversions

    /// The entries of an `a{ss}` variant.
    static func stringDictionary(_ dictionary: OpaquePointer, only wanted: String? = nil) -> [String: String] {
        guard String(cString: g_variant_get_type_string(dictionary)) == "a{ss}" else { return [:] }
        if let wanted {
            // Looked up in place, without taking the dictionary apart.
            guard let found = g_variant_lookup_value(dictionary, wanted, nil) else { return [:] }
            defer { g_variant_unref(found) }
            return [wanted: String(cString: g_variant_get_string(found, nil))]
        }
        var attributes: [String: String] = [:]
        for index in 0..<g_variant_n_children(dictionary) {
            let entry = g_variant_get_child_value(dictionary, index)
            let name = g_variant_get_child_value(entry, 0)
            let value = g_variant_get_child_value(entry, 1)
            attributes[String(cString: g_variant_get_string(name, nil))] = String(cString: g_variant_get_string(value, nil))
            g_variant_unref(value)
            g_variant_unref(name)
            g_variant_unref(entry)
        }
        return attributes
    }

    /// A floating `a{ss}` of `dictionary`, sorted by name.
    func makeStringDictionary(_ dictionary: [String: String]) -> OpaquePointer {
        var entries: [OpaquePointer?] = dictionary.sorted { $0.key < $1.key }.map { name, value in
            g_variant_new_dict_entry(g_variant_new_string(name), g_variant_new_string(value))
        }
        let type = g_variant_type_new("{ss}")
        defer { g_variant_type_free(type) }
        return g_variant_new_array(type, &entries, gsize(entries.count))
    }
}
#endif
