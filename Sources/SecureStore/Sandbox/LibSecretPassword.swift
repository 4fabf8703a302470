#if canImport(CLibSecret)
import CLibSecret
import Glibc

/// libsecret's password API (`secret_password_*v_sync`), which inside a Flatpak or Snap sandbox
/// keeps the app's items in its own encrypted file, `$XDG_DATA_HOME/keyrings/default.keyring`,
/// whose key the Secret portal hands over. Every call blocks: run them on ``BlockingWorkers``
/// with a ``GCancellation``.
enum LibSecretPassword {
    /// SecureStore's schema, built at run time (Swift cannot call the variadic
    /// `secret_schema_new`). Its name is stored as `xdg:schema`, as on the Secret Service.
    nonisolated(unsafe) private static let schema: UnsafeMutablePointer<SecretSchema> = {
        let attributes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, nil)!
        defer { g_hash_table_unref(attributes) }
        for name in SecretServiceBackend.Attribute.all where name != SecretServiceBackend.Attribute.schema {
            // GINT_TO_POINTER(SECRET_SCHEMA_ATTRIBUTE_STRING): the string type is 0.
            g_hash_table_insert(attributes, g_strdup(name), nil)
        }
        return secret_schema_newv(SecretServiceBackend.schemaName, SECRET_SCHEMA_NONE, attributes)
    }()

    /// The portal version with which libsecret keeps a sandboxed app's items in its own file
    /// (its `PORTAL_SECRET_VERSION`); with any other, it uses the Secret Service.
    static let portalVersionForFileKeyring: UInt32 = 1

    /// Environment variables that make libsecret's file keyring use a password (instead of the
    /// portal's key) or a file of the caller's choosing.
    static let testVariables = ["SECRET_FILE_TEST_PASSWORD", "SECRET_FILE_TEST_PATH"]

    /// Whether this process runs in a sandbox, by libsecret's own rule: `/.flatpak-info`
    /// exists, or `SNAP_NAME` is set.
    static var isSandboxed: Bool {
        access("/.flatpak-info", F_OK) == 0 || getenv("SNAP_NAME") != nil
    }

    /// Stores `value` under `attributes` (without `xdg:schema`), replacing the item with exactly
    /// these attributes, if any.
    static func store(_ value: [UInt8], contentType: String, attributes: [String: String], label: String,
                      _ cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        let secretValue = makeSecretValue(value, contentType: contentType)
        defer { secret_value_unref(UnsafeMutableRawPointer(secretValue)) }
        let stored = try withAttributes(attributes) { table throws(GLibError) in
            try withGError {
                secret_password_storev_binary_sync(schema, table, nil, label, secretValue, cancellation.cancellable, $0)
            }
        }
        guard stored != 0 else { throw GLibError.protocolViolation("libsecret refused the attributes") }
    }

    /// The secret of the first item whose attributes include `attributes`, its bytes exactly.
    static func lookup(_ attributes: [String: String], _ cancellation: GCancellation) throws(GLibError) -> SecretBytes? {
        cancellation.beginStep()
        let value = try withAttributes(attributes) { table throws(GLibError) in
            try withGError { secret_password_lookupv_binary_sync(schema, table, cancellation.cancellable, $0) }
        }
        return value.flatMap(takeSecret)
    }

    /// Deletes every item whose attributes include `attributes`.
    static func clear(_ attributes: [String: String], _ cancellation: GCancellation) throws(GLibError) {
        cancellation.beginStep()
        _ = try withAttributes(attributes) { table throws(GLibError) in
            try withGError { secret_password_clearv_sync(schema, table, cancellation.cancellable, $0) }
        }
    }

    /// What a search finds of an item: never its secret.
    struct FoundItem {
        var attributes: [String: String]
        var label: String
    }

    /// The attributes and label of every item whose attributes include `attributes`.
    static func search(_ attributes: [String: String], _ cancellation: GCancellation) throws(GLibError) -> [FoundItem] {
        cancellation.beginStep()
        let found = try withAttributes(attributes) { table throws(GLibError) in
            try withGError { secret_password_searchv_sync(schema, table, SECRET_SEARCH_ALL, cancellation.cancellable, $0) }
        }
        defer { g_list_free_full(found, g_object_unref) }
        var items: [FoundItem] = []
        var node = found
        while let current = node {
            if let retrievable = current.pointee.data.map(OpaquePointer.init),
               let table = secret_retrievable_get_attributes(retrievable) {
                defer { g_hash_table_unref(table) }
                let label = secret_retrievable_get_label(retrievable)
                defer { g_free(label) }
                items.append(FoundItem(attributes: stringTable(table), label: label.map { String(cString: $0) } ?? ""))
            }
            node = current.pointee.next
        }
        return items
    }

    /// Starts a search (see `search`) without waiting: it runs on the calling thread's
    /// thread-default main context, which must be iterated until `done` is called there with
    /// the outcome (what it found is not needed: see `PortalKeyRequest`).
    static func startSearch(_ attributes: [String: String], done: @escaping (Result<Void, GLibError>) -> Void) {
        final class Completion {
            let done: (Result<Void, GLibError>) -> Void
            init(_ done: @escaping (Result<Void, GLibError>) -> Void) { self.done = done }
        }
        let completion = Unmanaged.passRetained(Completion(done)).toOpaque()
        withAttributes(attributes) { table in
            secret_password_searchv(schema, table, SECRET_SEARCH_NONE, nil, { _, result, data in
                let completion = Unmanaged<Completion>.fromOpaque(data!).takeRetainedValue()
                completion.done(Result { () throws(GLibError) in
                    let found = try withGError { secret_password_search_finish(result, $0) }
                    g_list_free_full(found, g_object_unref)
                })
            }, completion)
        }
    }

    /// Whether the Secret portal answers on the session bus, asked the way libsecret decides
    /// to use it (the `version` property of `org.freedesktop.portal.Secret`), within `timeout`.
    /// libsecret itself, without the portal, falls back to the Secret Service silently.
    static func portalVersion(timeoutMilliseconds: Int32, _ cancellation: GCancellation) throws(GLibError) -> UInt32 {
        cancellation.beginStep()
        let bus = try withGError { g_bus_get_sync(G_BUS_TYPE_SESSION, cancellation.cancellable, $0) }
        guard let bus else { throw GLibError.protocolViolation("No session bus") }
        defer { g_object_unref(UnsafeMutableRawPointer(bus)) }
        let reply = try withGError {
            g_dbus_connection_call_sync(
                bus, "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop", "org.freedesktop.DBus.Properties",
                "Get", propertyGetParameters("org.freedesktop.portal.Secret", "version"), nil, G_DBUS_CALL_FLAGS_NONE,
                timeoutMilliseconds, cancellation.cancellable, $0)
        }
        guard let version = unboxPropertyReply(reply) else { throw GLibError.protocolViolation("The Secret portal has no version") }
        defer { g_variant_unref(version) }
        guard String(cString: g_variant_get_type_string(version)) == "u" else {
            throw GLibError.protocolViolation("The Secret portal's version is not a number")
        }
        return g_variant_get_uint32(version)
    }

    private static func withAttributes<R, Failure: Error>(_ attributes: [String: String], _ body: (OpaquePointer) throws(Failure) -> R) throws(Failure) -> R {
        let table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)!
        defer { g_hash_table_unref(table) }
        for (name, value) in attributes where name != SecretServiceBackend.Attribute.schema {
            g_hash_table_insert(table, g_strdup(name), g_strdup(value))
        }
        return try body(table)
    }

    private static func stringTable(_ table: OpaquePointer) -> [String: String] {
        var entries: [String: String] = [:]
        var iterator = GHashTableIter()
        g_hash_table_iter_init(&iterator, table)
        var key: gpointer?, value: gpointer?
        while g_hash_table_iter_next(&iterator, &key, &value) != 0 {
            guard let key, let value else { continue }
            entries[String(cString: key.assumingMemoryBound(to: gchar.self))] = String(cString: value.assumingMemoryBound(to: gchar.self))
        }
        return entries
    }
}
#endif
