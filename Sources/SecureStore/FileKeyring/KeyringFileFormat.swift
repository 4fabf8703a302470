#if canImport(CLibSecret)
import CLibSecret

/// libsecret's keyring file, as bytes: the header `GnomeKeyring\n\r\0\n`, version 1.0, then
/// the GVariant `(uayutua(a{say}ay))`: salt size, salt, iteration count, modified time, usage
/// count, and the items, each its attribute names with their values' HMACs and its sealed blob.
/// An item's plaintext is the GVariant `(a{ss}sttay)`: attributes, label, created, modified,
/// secret. Integers are little-endian, as libsecret writes them.
///
/// Decoding takes any bytes: GLib checks every offset of untrusted data, and data that is not
/// in normal form (what libsecret writes) is refused, so a hostile file is an error, never a
/// crash, a hang or a huge allocation.
enum KeyringFileFormat {
    static let header: [UInt8] = Array("GnomeKeyring\n\r".utf8) + [0, 10]
    static let version: [UInt8] = [1, 0]
    /// Larger files are refused before they are read: a million-byte value per item for
    /// a thousand items would be 1 GiB; a keyring this package writes stays far below.
    static let maximumFileSize = 256 << 20

    static func decode(_ bytes: [UInt8]) throws(KeyringError) -> KeyringContents {
        let prefix = header.count + version.count
        guard bytes.count >= prefix, bytes.starts(with: header) else { throw .corrupt("lacks the keyring header") }
        guard Array(bytes[header.count..<prefix]) == version else { throw .corrupt("has another format version") }
        let file = try variant(bytes[prefix...], type: "(uayutua(a{say}ay))")
        defer { g_variant_unref(file) }
        let salt = bytesOf(child(file, 1))
        guard UInt32(littleEndian: uint32Of(child(file, 0))) == UInt32(salt.count) else { throw .corrupt("gives a wrong salt size") }
        let items = child(file, 5)
        defer { g_variant_unref(items) }
        var sealed: [SealedItem] = []
        let count = g_variant_n_children(items)
        sealed.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let item = g_variant_get_child_value(items, gsize(index))!
            defer { g_variant_unref(item) }
            let attributes = child(item, 0)
            defer { g_variant_unref(attributes) }
            var hashed: [(name: String, mac: [UInt8])] = []
            for entryIndex in 0..<g_variant_n_children(attributes) {
                let entry = g_variant_get_child_value(attributes, entryIndex)!
                defer { g_variant_unref(entry) }
                hashed.append((stringOf(child(entry, 0)), bytesOf(child(entry, 1))))
            }
            sealed.append(SealedItem(hashedAttributes: hashed, blob: bytesOf(child(item, 1))))
        }
        return KeyringContents(salt: salt, iterations: UInt32(littleEndian: uint32Of(child(file, 2))),
                               modified: UInt64(littleEndian: uint64Of(child(file, 3))),
                               usageCount: UInt32(littleEndian: uint32Of(child(file, 4))), items: sealed)
    }

    static func encode(_ contents: KeyringContents) -> [UInt8] {
        let items = contents.items.map { item in
            let attributes = item.hashedAttributes.map { g_variant_new_dict_entry(g_variant_new_string($0.name), byteArray($0.mac)) }
            return GLibValues.tuple([array(of: "{say}", attributes), byteArray(item.blob)])
        }
        let file = GLibValues.tuple([g_variant_new_uint32(UInt32(contents.salt.count).littleEndian), byteArray(contents.salt),
                          g_variant_new_uint32(contents.iterations.littleEndian), g_variant_new_uint64(guint64(contents.modified.littleEndian)),
                          g_variant_new_uint32(contents.usageCount.littleEndian), array(of: "(a{say}ay)", items)])
        g_variant_ref_sink(file)
        defer { g_variant_unref(file) }
        return header + version + serialized(file)
    }

    /// An item's plaintext, for sealing. The caller wipes it.
    static func encodeItem(_ item: ItemPlaintext) -> [UInt8] {
        let attributes = item.attributes.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { g_variant_new_dict_entry(g_variant_new_string($0.key), g_variant_new_string($0.value)) }
        let plaintext = GLibValues.tuple([array(of: "{ss}", attributes), g_variant_new_string(item.label), g_variant_new_uint64(guint64(item.created)),
                               g_variant_new_uint64(guint64(item.modified)), byteArray(item.secret)])
        g_variant_ref_sink(plaintext)
        defer { g_variant_unref(plaintext) }
        return serialized(plaintext)
    }

    /// An opened item's plaintext. Its secret is the caller's to wipe.
    static func decodeItem(_ bytes: [UInt8]) throws(KeyringError) -> ItemPlaintext {
        let item = try variant(bytes[...], type: "(a{ss}sttay)")
        defer { g_variant_unref(item) }
        let entries = child(item, 0)
        defer { g_variant_unref(entries) }
        var attributes: [String: String] = [:]
        for index in 0..<g_variant_n_children(entries) {
            let entry = g_variant_get_child_value(entries, index)!
            defer { g_variant_unref(entry) }
            let name = stringOf(child(entry, 0))
            guard attributes[name] == nil else { throw .corrupt("has an item with an attribute twice") }
            attributes[name] = stringOf(child(entry, 1))
        }
        return ItemPlaintext(attributes: attributes, label: stringOf(child(item, 1)), created: uint64Of(child(item, 2)),
                             modified: uint64Of(child(item, 3)), secret: bytesOf(child(item, 4)))
    }

    // MARK: - GVariant

    /// `bytes` as an untrusted GVariant of `type` in normal form, or `corrupt`.
    private static func variant(_ bytes: ArraySlice<UInt8>, type: String) throws(KeyringError) -> OpaquePointer {
        let data = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(data) }
        let variantType = g_variant_type_new(type)
        defer { g_variant_type_free(variantType) }
        let untrusted = g_variant_new_from_bytes(variantType, data, 0)!
        g_variant_ref_sink(untrusted)
        defer { g_variant_unref(untrusted) }
        guard g_variant_is_normal_form(untrusted) != 0 else { throw .corrupt("is truncated or malformed") }
        // In normal form, proven just now: trusted from here on, so that reading each child
        // does not check its framing again (the file's parse took twice as long).
        return g_variant_ref_sink(g_variant_new_from_bytes(variantType, data, 1))!
    }

    private static func serialized(_ value: OpaquePointer) -> [UInt8] {
        let size = Int(g_variant_get_size(value))
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            g_variant_store(value, buffer.baseAddress)
            count = size
        }
    }

    private static func child(_ value: OpaquePointer, _ index: Int) -> OpaquePointer { g_variant_get_child_value(value, gsize(index))! }

    /// The children's values, consumed (each `child` call returns a new reference).
    private static func bytesOf(_ value: OpaquePointer) -> [UInt8] {
        defer { g_variant_unref(value) }
        var count: gsize = 0
        guard let data = g_variant_get_fixed_array(value, &count, 1), count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(count)))
    }

    private static func stringOf(_ value: OpaquePointer) -> String {
        defer { g_variant_unref(value) }
        // Normal form guarantees valid UTF-8 ending in NUL.
        return String(cString: g_variant_get_string(value, nil))
    }

    private static func uint32Of(_ value: OpaquePointer) -> UInt32 {
        defer { g_variant_unref(value) }
        return g_variant_get_uint32(value)
    }

    private static func uint64Of(_ value: OpaquePointer) -> UInt64 {
        defer { g_variant_unref(value) }
        return UInt64(g_variant_get_uint64(value))
    }

    private static func byteArray(_ bytes: [UInt8]) -> OpaquePointer {
        let byte = g_variant_type_new("y")
        defer { g_variant_type_free(byte) }
        return bytes.withUnsafeBytes { g_variant_new_fixed_array(byte, $0.baseAddress, gsize($0.count), 1) }
    }

    private static func array(of childType: String, _ children: [OpaquePointer?]) -> OpaquePointer {
        let type = g_variant_type_new(childType)
        defer { g_variant_type_free(type) }
        return children.withUnsafeBufferPointer { g_variant_new_array(type, $0.baseAddress, gsize($0.count)) }
    }
}

/// A keyring file's contents, items still sealed.
struct KeyringContents {
    var salt: [UInt8]
    var iterations: UInt32
    var modified: UInt64
    var usageCount: UInt32
    var items: [SealedItem]
}

/// One item as the file holds it: attribute names with their values' HMACs (in the file's
/// order, kept as found), and the sealed blob.
struct SealedItem {
    var hashedAttributes: [(name: String, mac: [UInt8])]
    var blob: [UInt8]

    /// The HMAC stored for attribute `name` (the first, should a hostile file repeat it).
    func mac(of name: String) -> [UInt8]? { hashedAttributes.first { $0.name == name }?.mac }
}

/// An item's plaintext.
struct ItemPlaintext {
    var attributes: [String: String]
    var label: String
    var created: UInt64
    var modified: UInt64
    var secret: [UInt8]
}
#endif
