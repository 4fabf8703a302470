import Foundation
import Testing
@_spi(SecureStoreInternal) @testable import SecureStore

/// The file keyring under damaged, hostile and wrongly keyed files: a typed error or the exact
/// value, never a wrong value, a crash or a hang, and a file that is left as it was.
@Suite("File keyring: hostile files", TestSelection())
struct FileKeyringHostileFileTests {
    /// A keyring with two items, "a" and "b", and its bytes.
    static func twoItems() async throws -> (FileKeyringPlace, [UInt8]) {
        let place = FileKeyringPlace()
        let store = try place.store()
        try await store.setItem("a", "value-a")
        try await store.setItem("b", "value-b")
        return (place, place.bytes)
    }

    /// Every call on `place`'s keyring: each read is the exact value, `nil`, or a typed error.
    static func expectNothingWrong(_ place: FileKeyringPlace, _ context: String) async throws {
        let store = try place.store()
        for (key, value) in [("a", "value-a"), ("b", "value-b")] {
            do {
                let read = try await store.getItem(key)
                #expect(read == nil || read == value, "\(context): \(key) read another value")
            } catch let error as SecureStoreError {
                #expect([.keyChain].contains(error.code), "\(context): \(error)")
            }
        }
        do { _ = try await store.allKeys() } catch is SecureStoreError {}
        do { _ = try await store.containsItem("a") } catch is SecureStoreError {}
    }

    /// A file cut short at every length is an error (never a crash), and a write refused on it
    /// leaves the bytes as they were.
    @Test func aTruncatedFileIsATypedErrorAndStaysUntouched() async throws {
        let (place, whole) = try await Self.twoItems()
        for length in stride(from: 0, to: whole.count, by: 7) {
            let cut = Array(whole[..<length])
            try place.write(cut)
            let error = await secureStoreError { _ = try await place.store().getItem("a") }
            #expect(error?.code == .keyChain, "length \(length): \(String(describing: error))")
            let write = await secureStoreError { try await place.store().setItem("c", "x") }
            #expect(write?.code == .keyChain, "length \(length)")
            #expect(place.bytes == cut, "length \(length): the file was changed")
        }
    }

    /// Any one bit flipped anywhere: reads give the exact value, nil (an attribute's HMAC no
    /// longer matches), or a typed error; never the other item's value.
    @Test func aFlippedBitNeverYieldsAWrongValue() async throws {
        let (place, whole) = try await Self.twoItems()
        for position in stride(from: 0, to: whole.count, by: 3) {
            var flipped = whole
            flipped[position] ^= 1 << UInt8(position % 8)
            try place.write(flipped)
            try await Self.expectNothingWrong(place, "bit at \(position)")
        }
    }

    /// Random bytes after a valid header, and huge counts and lengths that point past the end:
    /// a typed error, quickly.
    @Test func hostileBytesAreATypedError() async throws {
        let place = FileKeyringPlace()
        try await place.store().setItem("a", "value-a")
        var generator = SystemRandomNumberGenerator()
        let header = KeyringFileFormat.header + KeyringFileFormat.version
        for length in [1, 8, 64, 300, 4096] {
            for filler: UInt8 in [0x00, 0xFF] {
                try place.write(header + [UInt8](repeating: filler, count: length))
                #expect(await secureStoreError { _ = try await place.store().getItem("a") }?.code == .keyChain)
            }
            try place.write(header + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try await Self.expectNothingWrong(place, "random \(length)")
        }
    }

    /// A file that asks for 2³²-1 key derivation rounds is refused at once, not derived for hours.
    @Test func aFileAskingForEndlessKeyDerivationIsRefused() async throws {
        let place = FileKeyringPlace()
        try await place.store().setItem("a", "value-a")
        var contents = try KeyringFileFormat.decode(place.bytes)
        contents.iterations = .max
        try place.write(KeyringFileFormat.encode(contents))
        let error = await secureStoreError { _ = try await place.store().getItem("a") }
        #expect(error?.code == .keyChain && error?.message.contains("iterations") == true, "\(String(describing: error))")
    }

    /// One item's sealed blob changed, or moved under another item's attributes: that key is a
    /// typed error, the other reads, writes and deletes go on, and the key can be overwritten.
    @Test(arguments: ["changed", "moved"])
    func anItemThatDoesNotVerifyIsAnErrorForItsKeyOnly(damage: String) async throws {
        let (place, whole) = try await Self.twoItems()
        var contents = try KeyringFileFormat.decode(whole)
        let keyMACs = contents.items.map { $0.mac(of: "key") }
        guard let a = keyMACs.firstIndex(where: { $0 != nil }), let b = keyMACs.lastIndex(where: { $0 != nil }), a != b else {
            Issue.record("expected two items with keys")
            return
        }
        if damage == "changed" {
            contents.items[a].blob[0] ^= 0x80
        } else {
            contents.items[a].blob = contents.items[b].blob
        }
        try place.write(KeyringFileFormat.encode(contents))
        let store = try place.store()
        var errors = 0, values = 0
        for (key, value) in [("a", "value-a"), ("b", "value-b")] {
            do {
                #expect(try await store.getItem(key) == value)
                values += 1
            } catch let error as SecureStoreError {
                #expect(error.code == .keyChain && error.message.contains("does not verify"), "\(error)")
                errors += 1
            }
        }
        #expect(errors == 1 && values == 1)
        #expect(try await store.allKeys().count == 1)
        try await store.setItem("c", "value-c")
        #expect(try await store.getItem("c") == "value-c")
        try await store.setItem("a", "again")
        try await store.setItem("b", "again")
        #expect(try await store.getItem("a") == "again")
        #expect(try await store.getItem("b") == "again")
    }

    /// A password that does not open the keyring is an error for every call, never "not found",
    /// and nothing changes, even in a keyring that holds no item but its key check.
    @Test(arguments: [true, false])
    func aWrongPasswordIsAnErrorAndChangesNothing(withItems: Bool) async throws {
        let place = FileKeyringPlace()
        let store = try place.store()
        try await store.setItem("a", "value-a")
        if !withItems { try await store.deleteItem("a") }
        let before = place.bytes
        let wrong = try place.backend(password: .file(place.passwordFile("wrong", holding: "not the password")))
        let wrongStore = SecureStore(backend: wrong)
        for call in [
            { _ = try await wrongStore.getItem("a") }, { _ = try await wrongStore.containsItem("a") },
            { _ = try await wrongStore.allKeys() }, { try await wrongStore.setItem("a", "x") },
            { try await wrongStore.deleteItem("a") }, { try await wrongStore.deleteAll() },
        ] as [@Sendable () async throws -> Void] {
            let error = await secureStoreError(call)
            #expect(error?.code == .keyChain && error?.message.contains("does not open") == true, "\(String(describing: error))")
        }
        let available = await wrong.isAvailable()
        #expect(!available)
        #expect(place.bytes == before)
        #expect(try await store.getItem("a") == (withItems ? "value-a" : nil))
    }

    /// The portal's key changed: the items of the former key read as missing and stay in the
    /// file, new writes work and read back, and only they are listed.
    @Test func aPortalKeyThatChangedSetsTheFormerItemsAside() async throws {
        let place = FileKeyringPlace()
        let former = SecureStore(backend: try place.backend(password: KeyringPassword(source: .portalLike(Array(repeating: 1, count: 64)))))
        try await former.setItem("a", "value-a")
        let itemsBefore = try KeyringFileFormat.decode(place.bytes).items.count
        let current = SecureStore(backend: try place.backend(password: KeyringPassword(source: .portalLike(Array(repeating: 2, count: 64)))))
        #expect(try await current.getItem("a") == nil)
        try await current.setItem("b", "value-b")
        #expect(try await current.getItem("b") == "value-b")
        #expect(try await current.allKeys() == ["b"])
        // The former item stays; its key check is replaced by the current key's.
        #expect(try KeyringFileFormat.decode(place.bytes).items.count == itemsBefore + 1)
        let report = try await (current.backend as! FileKeyringBackend).inspect()
        #expect(report.exists && report.mode == 0o600 && report.itemCount == itemsBefore + 1 && report.unverifiableCount == 1
                && report.keyOpens, "\(report)")
        #expect(try await former.getItem("a") == "value-a")
        // Removing what the current key does not open drops the former item and nothing else.
        #expect(try await (current.backend as! FileKeyringBackend).removeItemsThatDoNotVerify() == 1)
        #expect(try await current.getItem("b") == "value-b")
        #expect(try await former.getItem("a") == nil)
    }

    /// The password file must be the user's own and unreadable to others; the keyring file is
    /// 0600 and the folder it made 0700.
    @Test func modesAreCheckedAndKept() async throws {
        let place = FileKeyringPlace(prefilled: false)
        let open = place.passwordFile("open", holding: "password", mode: 0o644)
        let error = await secureStoreError { try await SecureStore(backend: place.backend(password: .file(open))).setItem("a", "x") }
        #expect(error?.code == .invalidOptions && error?.message.contains("0600") == true, "\(String(describing: error))")
        let empty = place.passwordFile("empty", holding: "")
        #expect(await secureStoreError { try await SecureStore(backend: place.backend(password: .file(empty))).setItem("a", "x") }?.code == .invalidOptions)
        #expect(!FileManager.default.fileExists(atPath: place.keyring))
        try await place.store().setItem("a", "x")
        let file = try FileManager.default.attributesOfItem(atPath: place.keyring)[.posixPermissions] as? Int
        let folder = try FileManager.default.attributesOfItem(atPath: (place.keyring as NSString).deletingLastPathComponent)[.posixPermissions] as? Int
        #expect(file == 0o600 && folder == 0o700)
    }
}
