/// A name compared by its UTF-8 bytes, the way the Secret Service, libsecret's file keyring and
/// `secret-tool` compare attribute values. Swift's `String` equality is canonical equivalence,
/// under which `"caf\u{E9}"` and `"cafe\u{301}"` are one string; to a keyring they are two
/// namespaces. Every name the library keeps in memory (an application ID, service, access group
/// or key, and item attributes) is keyed by this type, so no memory can answer for a name the
/// keyring would call different.
struct ExactName: Hashable, Comparable, Sendable, CustomStringConvertible {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactName, rhs: ExactName) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
            hasher.combine(bytes.count)
        }
    }

    /// Byte order, as `strcmp` would sort.
    static func < (lhs: ExactName, rhs: ExactName) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    var description: String { string }
}

extension String {
    /// Whether the two strings are the same bytes (not merely canonically equivalent).
    func isExactly(_ other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}
