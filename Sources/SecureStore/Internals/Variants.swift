#if canImport(CLibSecret)
import CLibSecret

/// GVariant, GHashTable and string conversions for the calls the backends make.
enum GLibValues {
    static func withNullTerminatedStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<gchar>?>) throws(GLibError) -> R) throws(GLibError) -> R {
        let copies = strings.map { g_strdup($0) }
        defer { copies.forEach { g_free($0) } }
        var pointers = copies.map { UnsafePointer($0) } + [nil]
        return try pointers.withUnsafeMutableBufferPointer { buffer throws(GLibError) in try body(buffer.baseAddress!) }
    }

    /// The `(ss)` arguments of `org.freedesktop.DBus.Properties.Get`.
    static func propertyGetParameters(_ interface: String, _ name: String) -> OpaquePointer {
        var children = [g_variant_new_string(interface), g_variant_new_string(name)]
        return g_variant_new_tuple(&children, 2)
    }

    /// The value inside a `Properties.Get` reply `(v)`, which the caller unrefs; takes `reply`.
    static func unboxPropertyReply(_ reply: OpaquePointer?) -> OpaquePointer? {
        guard let reply else { return nil }
        defer { g_variant_unref(reply) }
        let boxed = g_variant_get_child_value(reply, 0)
        defer { g_variant_unref(boxed) }
        return g_variant_get_variant(boxed)
    }

    /// A new `SecretValue` holding exactly `value` (NULs included), copied by libsecret into its
    /// wiping memory; the caller unrefs it.
    static func makeSecretValue(_ value: [UInt8], contentType: String) -> OpaquePointer {
        value.withUnsafeBufferPointer { bytes in
            let start = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: gchar.self) }
            return "".withCString { empty in
                secret_value_new(start ?? empty, gssize(bytes.count), contentType)
            }
        }
    }

    /// Takes ownership of a `SecretValue` and returns its bytes, exactly (NULs and bytes that are
    /// not UTF-8 included: whether they make a string is for the caller to decide).
    /// `secret_value_unref` wipes libsecret's copy (egg-secure memory) before freeing it.
    static func takeSecret(_ value: OpaquePointer) -> SecretBytes? {
        defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
        var length: gsize = 0
        guard let bytes = secret_value_get(value, &length) else { return nil }
        return SecretBytes(Array(UnsafeRawBufferPointer(start: bytes, count: Int(length))))
    }

    /// Whether a collection's `Locked` property value, which it takes, says it is locked.
    static func takeLockedFlag(_ locked: OpaquePointer?) -> Bool {
        guard let locked else { return false }
        defer { g_variant_unref(locked) }
        return String(cString: g_variant_get_type_string(locked)) == "b" && g_variant_get_boolean(locked) != 0
    }

    /// Takes ownership of a `gchar*` and returns it as a `String`.
    static func takeString(_ string: UnsafeMutablePointer<gchar>?) -> String? {
        guard let string else { return nil }
        defer { g_free(string) }
        return String(cString: string)
    }

    /// The strings of a NULL-terminated `gchar**` (which the caller still owns).
    static func strings(_ strings: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?) -> [String] {
        guard let strings else { return [] }
        var result: [String] = []
        var index = 0
        while let string = strings[index] {
            result.append(String(cString: string))
            index += 1
        }
        return result
    }

    /// The string (`s` or `o`) at `index` of a tuple.
    static func tupleString(_ tuple: OpaquePointer, at index: Int) -> String {
        let child = g_variant_get_child_value(tuple, gsize(index))
        defer { g_variant_unref(child) }
        return String(cString: g_variant_get_string(child, nil))
    }

    /// A floating `GVariant` tuple of `children` (floating references, which it takes).
    static func tuple(_ children: [OpaquePointer?]) -> OpaquePointer {
        var children = children
        return g_variant_new_tuple(&children, gsize(children.count))
    }

    /// A floating `a{sv}` of `entries` (floating values, which it takes), in their order.
    static func makeVariantDictionary(_ entries: [(String, OpaquePointer)]) -> OpaquePointer {
        var elements: [OpaquePointer?] = entries.map { name, value in
            g_variant_new_dict_entry(g_variant_new_string(name), g_variant_new_variant(value))
        }
        let type = g_variant_type_new("{sv}")
        defer { g_variant_type_free(type) }
        return g_variant_new_array(type, &elements, gsize(elements.count))
    }

    /// A floating `ao` of `paths`.
    static func objectPathArray(_ paths: [String]) -> OpaquePointer {
        var elements: [OpaquePointer?] = paths.map { g_variant_new_object_path($0) }
        let type = g_variant_type_new("o")
        defer { g_variant_type_free(type) }
        return g_variant_new_array(type, &elements, gsize(elements.count))
    }

    /// The paths in an `ao` variant, which it takes.
    static func objectPaths(_ array: OpaquePointer) -> [String] {
        defer { g_variant_unref(array) }
        return (0..<g_variant_n_children(array)).map { index in
            let path = g_variant_get_child_value(array, index)
            defer { g_variant_unref(path) }
            return String(cString: g_variant_get_string(path, nil))
        }
    }
}
#endif
