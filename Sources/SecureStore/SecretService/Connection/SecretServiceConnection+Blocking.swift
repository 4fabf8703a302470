#if canImport(CLibSecret)
import CLibSecret
import Dispatch

/// The calls that block their thread until the service answers (libsecret's and GDBus's
/// `*_sync` calls): for ``BlockingCall``, on ``BlockingWorkers`` only.
extension SecretServiceConnection {
    /// The paths of items whose attributes include all of `attributes`, unlocked and locked.
    func searchItems(_ attributes: [String: String], cancellation: GCancellation) throws(GLibError) -> (unlocked: [String], locked: [String]) {
        let reply = try callSync(Self.servicePath, "org.freedesktop.Secret.Service", "SearchItems",
                                 GLibValues.tuple([makeStringDictionary(attributes)]), replyType: "(aoao)", cancellation)
        defer { g_variant_unref(reply) }
        return (GLibValues.objectPaths(g_variant_get_child_value(reply, 0)), GLibValues.objectPaths(g_variant_get_child_value(reply, 1)))
    }

    /// The secret of the item at `path`, its bytes exactly; `nil` when the service returns none
    /// (the item is locked). A secret this session cannot decrypt throws (see `decodeSecrets`),
    /// as does one read twice with two results on a session not yet verified (see
    /// `checkedAgainstSecondReading`).
    func secret(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> SecretBytes? {
        let read = { () throws(GLibError) -> [String: SecretBytes] in
            let reply = try self.callSync(Self.servicePath, "org.freedesktop.Secret.Service", "GetSecrets",
                                          try self.getSecretsArguments([path]), replyType: "(a{o(oayays)})", autoStart: false, cancellation)
            defer { g_variant_unref(reply) }
            return try Self.decodeSecrets(reply, of: [path], service: ServicePointer(pointer: self.service))
        }
        let first = try read()
        return try checkedAgainstSecondReading(first, mustReadTwice ? try read() : nil)[path]
    }

    /// Calls `method` and waits for its reply, blocking the thread, with no D-Bus timeout of
    /// its own: GDBus's default (25 s) would cut a longer store timeout short, and the call's
    /// watchdog ends it at the store's timeout. Returns the reply body, of type `replyType`.
    func callSync(
        _ path: String, _ interface: String, _ method: String, _ arguments: OpaquePointer, replyType: String,
        autoStart: Bool = true, _ cancellation: GCancellation
    ) throws(GLibError) -> OpaquePointer {
        cancellation.beginStep()
        let flags = autoStart ? G_DBUS_CALL_FLAGS_NONE : G_DBUS_CALL_FLAGS_NO_AUTO_START
        let reply = try withGError {
            g_dbus_connection_call_sync(bus, destination, path, interface, method, arguments, nil,
                                        flags, Self.waitForever, cancellation.cancellable, $0)
        }
        guard let reply else { throw GLibError.protocolViolation("\(method) returned no reply") }
        guard String(cString: g_variant_get_type_string(reply)) == replyType else {
            g_variant_unref(reply)
            throw GLibError.protocolViolation("\(method) replied with something other than \(replyType)")
        }
        return reply
    }

    /// A D-Bus timeout that never ends first: the watchdog of each call keeps the store's own.
    static let waitForever = G_MAXINT

    /// `GetSecrets`' arguments for `paths` in this connection's transfer session.
    func getSecretsArguments(_ paths: [String]) throws(GLibError) -> OpaquePointer {
        guard let session = secret_service_get_session_dbus_path(service).map({ String(cString: $0) }) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        return GLibValues.tuple([GLibValues.objectPathArray(paths), g_variant_new_object_path(session)])
    }

    /// The secrets in a `GetSecrets` reply, by path. An item the reply leaves out (locked, or
    /// gone) has none. One it holds that this session cannot decrypt throws
    /// `ServiceErrors.garbledSecret`: the two sides derived different keys (KWallet before
    /// 6.25), which must never read as "no such item".
    static func decodeSecrets(_ reply: OpaquePointer, of paths: [String], service: ServicePointer) throws(GLibError) -> [String: SecretBytes] {
        let secrets = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(secrets) }
        var values: [String: SecretBytes] = [:]
        for path in paths {
            guard let encoded = g_variant_lookup_value(secrets, path, nil) else { continue }
            defer { g_variant_unref(encoded) }
            guard let value = secret_service_decode_dbus_secret(service.pointer, encoded).flatMap(GLibValues.takeSecret) else {
                throw ServiceErrors.garbledSecret
            }
            values[path] = value
        }
        return values
    }

    /// Creates an item in the collection at `collectionPath`, or, with `replace` and one with
    /// exactly these attributes there, replaces its label and secret. Returns the item's path.
    /// Sent to the daemon this connection's session belongs to (see ``destination``), as
    /// libsecret's `secret_service_create_item_dbus_path` does but for its address.
    func createItem(
        inCollection collectionPath: String, label: String, attributes: [String: String], value: [UInt8],
        contentType: String, replace: Bool, cancellation: GCancellation
    ) throws(GLibError) -> String {
        let arguments = try createItemArguments(label: label, attributes: attributes, value: value, contentType: contentType, replace: replace)
        let reply = try callSync(collectionPath, "org.freedesktop.Secret.Collection", "CreateItem", arguments, replyType: "(oo)", cancellation)
        defer { g_variant_unref(reply) }
        let (item, prompt) = (GLibValues.tupleString(reply, at: 0), GLibValues.tupleString(reply, at: 1))
        return prompt == "/" ? item : try itemCreated(byPromptAt: prompt, cancellation: cancellation)
    }

    /// `CreateItem`'s arguments (a floating tuple): the item's properties, its secret encoded
    /// for this connection's transfer session, and `replace`.
    func createItemArguments(label: String, attributes: [String: String], value: [UInt8], contentType: String,
                             replace: Bool) throws(GLibError) -> OpaquePointer {
        let secretValue = GLibValues.makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        guard let encoded = secret_service_encode_dbus_secret(service, secretValue) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        let properties = GLibValues.makeVariantDictionary([
            ("org.freedesktop.Secret.Item.Label", g_variant_new_string(label)),
            ("org.freedesktop.Secret.Item.Attributes", makeStringDictionary(attributes)),
        ])
        return GLibValues.tuple([properties, encoded, g_variant_new_boolean(replace ? 1 : 0)])
    }

    /// Runs the prompt a `CreateItem` answered with (the service's dialog) and returns the
    /// path of the item it made.
    func itemCreated(byPromptAt prompt: String, cancellation: GCancellation) throws(GLibError) -> String {
        let outcome = try self.prompt(at: prompt, cancellation)
        guard !outcome.dismissed, let item = outcome.objectPath else { throw GLibError.dismissedPrompt }
        return item
    }

    /// Runs the service's prompt at `path` (a dialog) and says how it ended. Where this
    /// connection hears the service's `Completed` signals (`hearsPrompts`) it runs the prompt
    /// itself (`awaitPrompt`); elsewhere libsecret does, whose prompt never completes when the
    /// daemon leaves the bus meanwhile, so that its thread stays blocked.
    func prompt(at path: String, _ cancellation: GCancellation) throws(GLibError) -> PromptCompletions.Outcome {
        cancellation.beginStep()
        if hearsPrompts, let owner = openedWith { return try awaitPrompt(at: path, from: owner, cancellation) }
        // libsecret returns no result for a dismissed prompt.
        let result = try withGError { secret_service_prompt_at_dbus_path_sync(service, path, cancellation.cancellable, nil, $0) }
        defer { result.map { g_variant_unref($0) } }
        return PromptCompletions.Outcome(dismissed: result == nil, result: result)
    }

    /// `Prompt`, then the `Completed` of `owner`, the daemon asked, waited for in short slices:
    /// the call's cancellation (its timeout too) ends the wait, as does the daemon leaving the
    /// bus (``GLibError/ownerChanged``: the call runs again on a new connection). A wait ended
    /// that way dismisses the prompt, so that its dialog goes away.
    private func awaitPrompt(at path: String, from owner: String, _ cancellation: GCancellation) throws(GLibError) -> PromptCompletions.Outcome {
        let completed = DispatchSemaphore(value: 0)
        let outcome = Locked<PromptCompletions.Outcome?>(nil)
        PromptCompletions.await(path, from: owner) { ended in
            outcome.withLock { $0 = ended }
            completed.signal()
        }
        defer { PromptCompletions.forget(path) }
        do throws(GLibError) {
            g_variant_unref(try callSync(path, "org.freedesktop.Secret.Prompt", "Prompt", GLibValues.tuple([g_variant_new_string("")]),
                                         replyType: "()", cancellation))
            while completed.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if cancellation.isCancelled { throw cancellation.cancelledError }
                if !servesCurrentOwner { throw GLibError.ownerChanged }
            }
        } catch {
            if servesCurrentOwner {
                // Without a cancellable (the call's may be cancelled already), a second at most.
                g_dbus_connection_call_sync(bus, owner, path, "org.freedesktop.Secret.Prompt", "Dismiss", GLibValues.tuple([]), nil,
                                            G_DBUS_CALL_FLAGS_NONE, 1000, nil, nil).map { g_variant_unref($0) }
            }
            throw error
        }
        return outcome.withLock { $0 } ?? PromptCompletions.Outcome(dismissed: true, objectPath: nil)
    }


    /// Replaces the secret of the item at `path` (`Item.SetSecret`), keeping its attributes and
    /// label: an overwrite that is no `CreateItem` (see `SecretServiceBackend.write`).
    func setSecret(ofItemAt path: String, value: [UInt8], contentType: String, cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let secretValue = GLibValues.makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        guard let encoded = secret_service_encode_dbus_secret(service, secretValue) else {
            throw GLibError.protocolViolation("No transfer session is open")
        }
        let reply = try withGError {
            g_dbus_connection_call_sync(
                bus, destination, path, "org.freedesktop.Secret.Item", "SetSecret", GLibValues.tuple([encoded]), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        reply.map { g_variant_unref($0) }
    }

    /// Sets the attributes of the item at `path` to `attributes` (`Properties.Set` of the item's
    /// `Attributes`).
    func setAttributes(_ attributes: [String: String], ofItemAt path: String, cancellation: GCancellation) throws(GLibError) {
        let arguments = GLibValues.tuple([g_variant_new_string("org.freedesktop.Secret.Item"), g_variant_new_string("Attributes"),
                                          g_variant_new_variant(makeStringDictionary(attributes))])
        g_variant_unref(try callSync(path, "org.freedesktop.DBus.Properties", "Set", arguments, replyType: "()", cancellation))
    }

    /// The attributes of the item at `path`.
    func attributes(ofItemAt path: String, cancellation: GCancellation) throws(GLibError) -> [String: String] {
        guard let dictionary = try property("org.freedesktop.Secret.Item", "Attributes", at: path, cancellation: cancellation) else {
            return [:]
        }
        defer { g_variant_unref(dictionary) }
        return Self.stringDictionary(dictionary)
    }

    /// Deletes the item at `path` (`Item.Delete`), through the service's prompt if it shows one;
    /// sent to the daemon this connection was opened with (see ``destination``).
    func deleteItem(at path: String, cancellation: GCancellation) throws(GLibError) {
        let reply = try callSync(path, "org.freedesktop.Secret.Item", "Delete", GLibValues.tuple([]), replyType: "(o)", autoStart: false, cancellation)
        defer { g_variant_unref(reply) }
        let prompt = GLibValues.tupleString(reply, at: 0)
        guard prompt != "/" else { return }
        try completeDeletion(promptAt: prompt, of: path, cancellation: cancellation)
    }

    /// Runs the prompt an `Item.Delete` of the item at `item` answered with (KeePassXC answers
    /// every delete with one, which may show a dialog), then checks that the item is gone:
    /// libsecret's prompt returns the `Completed` signal's result whether the prompt was
    /// dismissed or not, and older KeePassXC completes it as not dismissed even when the person
    /// said no. An item still there throws
    /// ``GLibError/deleteNotConfirmed``.
    func completeDeletion(promptAt prompt: String, of item: String, cancellation: GCancellation) throws(GLibError) {
        _ = try self.prompt(at: prompt, cancellation)
        do {
            try property("org.freedesktop.Secret.Item", "Label", at: item, cancellation: cancellation).map { g_variant_unref($0) }
        } catch where ServiceErrors.isNoSuchObject(error) {
            return
        }
        throw GLibError.deleteNotConfirmed
    }

    /// One D-Bus property of the object at `path`, unboxed; the caller unrefs it.
    func property(_ interface: String, _ name: String, at path: String, cancellation: GCancellation) throws(GLibError) -> OpaquePointer? {
        cancellation.beginStep()
        let reply = try withGError {
            g_dbus_connection_call_sync(
                g_dbus_proxy_get_connection(proxy), destination, path,
                "org.freedesktop.DBus.Properties", "Get", GLibValues.propertyGetParameters(interface, name), nil,
                G_DBUS_CALL_FLAGS_NONE, Self.waitForever, cancellation.cancellable, $0)
        }
        return GLibValues.unboxPropertyReply(reply)
    }
}
#endif
