#if canImport(CLibSecret)
import CLibSecret

/// The file keyring's cryptography, exactly libsecret's for its file format, all libgcrypt's:
/// a 16-byte key from PBKDF2-HMAC-SHA256 of the password with the file's salt; each item
/// AES-128-CBC with PKCS #7 padding and a random IV, then HMAC-SHA256 over ciphertext and IV;
/// attribute values stored as their HMAC-SHA256. The same key serves cipher and MAC, as in
/// libsecret.
enum KeyringCrypto {
    static let keySize = 16
    static let blockSize = 16
    static let macSize = 32
    static let saltSize = 32
    /// libsecret's iteration count for the keyrings it creates.
    static let iterations: UInt32 = 100_000
    /// The most iterations a file may ask for: a hostile file's 2³² would hang every call.
    static let maximumIterations: UInt32 = 10_000_000

    /// A derived key, as libgcrypt handles keyed with it (a handle costs more to open than a
    /// short message costs to MAC), and the HMACs of the attribute values seen so far (a read
    /// hashes the same application, service and schema every time). Its calls take turns.
    final class Key: @unchecked Sendable {
        private struct Handles {
            let mac: UnsafeMutableRawPointer
            let cipher: UnsafeMutableRawPointer
            var hashes: [[UInt8]: [UInt8]] = [:]
        }
        private let handles: Locked<Handles>
        /// Attribute values hashed and kept, at most; then forgotten all at once.
        private static let hashCapacity = 4096

        init(_ bytes: [UInt8]) throws(KeyringError) {
            let mac = bytes.withUnsafeBytes { securestore_hmac_open($0.baseAddress, $0.count) }
            let cipher = bytes.withUnsafeBytes { securestore_aes128_cbc_open($0.baseAddress) }
            guard let mac, let cipher else {
                if let mac { securestore_hmac_close(mac) }
                if let cipher { securestore_aes128_cbc_close(cipher) }
                throw .crypto("libgcrypt refused the key")
            }
            handles = Locked(Handles(mac: mac, cipher: cipher))
        }

        deinit {
            handles.withLock { handles in
                securestore_hmac_close(handles.mac)
                securestore_aes128_cbc_close(handles.cipher)
            }
        }

        func mac(_ data: ArraySlice<UInt8>) throws(KeyringError) -> [UInt8] {
            var mac = [UInt8](repeating: 0, count: macSize)
            let status = handles.withLock { handles in
                data.withUnsafeBytes { data in
                    mac.withUnsafeMutableBytes { securestore_hmac(handles.mac, data.baseAddress, data.count, $0.baseAddress) }
                }
            }
            guard status == 0 else { throw .crypto("HMAC failed") }
            return mac
        }

        /// The stored form of an attribute value: its HMAC (libsecret hashes the UTF-8 bytes).
        func hashAttribute(_ value: String) throws(KeyringError) -> [UInt8] {
            let bytes = Array(value.utf8)
            if let known = handles.withLock({ $0.hashes[bytes] }) { return known }
            let hash = try mac(bytes[...])
            handles.withLock { handles in
                if handles.hashes.count >= Self.hashCapacity { handles.hashes.removeAll() }
                handles.hashes[bytes] = hash
            }
            return hash
        }

        /// AES-128-CBC of `buffer` in place.
        func crypt(encrypt: Bool, iv: [UInt8], _ buffer: inout [UInt8]) throws(KeyringError) {
            let length = buffer.count
            let status = handles.withLock { handles in
                buffer.withUnsafeMutableBytes { securestore_aes128_cbc(handles.cipher, encrypt ? 1 : 0, iv, $0.baseAddress, length) }
            }
            guard status == 0 else { throw .crypto(encrypt ? "encryption failed" : "decryption failed") }
        }
    }

    /// The key for `password` and the file's `salt` and `iterations`.
    static func deriveKey(password: [UInt8], salt: [UInt8], iterations: UInt32) throws(KeyringError) -> Key {
        try ready()
        guard iterations >= 1, iterations <= maximumIterations else {
            throw .corrupt("asks for \(iterations) key derivation iterations")
        }
        var key = [UInt8](repeating: 0, count: keySize)
        defer { wipe(&key) }
        let status = password.withUnsafeBytes { password in
            salt.withUnsafeBytes { salt in
                key.withUnsafeMutableBytes { key in
                    securestore_pbkdf2_sha256(password.baseAddress, password.count, salt.baseAddress, salt.count,
                                              UInt(iterations), key.baseAddress, key.count)
                }
            }
        }
        guard status == 0 else { throw .crypto("key derivation failed") }
        return try Key(key)
    }

    /// Encrypts `plaintext` into libsecret's item blob: ciphertext, IV, MAC.
    static func seal(_ key: Key, _ plaintext: [UInt8]) throws(KeyringError) -> [UInt8] {
        let padding = blockSize - plaintext.count % blockSize
        var blob = plaintext + [UInt8](repeating: UInt8(padding), count: padding)
        var iv = [UInt8](repeating: 0, count: blockSize)
        gcry_create_nonce(&iv, blockSize)
        do {
            try key.crypt(encrypt: true, iv: iv, &blob)
        } catch {
            wipe(&blob)
            throw error
        }
        blob += iv
        let tag = try key.mac(blob[...])
        return blob + tag
    }

    /// The plaintext of an item blob, or `nil` when its MAC does not verify under `key`
    /// (another key, or a changed blob). Throws for a blob that verifies but is malformed.
    static func open(_ key: Key, _ blob: [UInt8]) throws(KeyringError) -> [UInt8]? {
        guard blob.count >= blockSize + blockSize + macSize, (blob.count - macSize) % blockSize == 0 else { return nil }
        let signedLength = blob.count - macSize
        let expected = try key.mac(blob[..<signedLength])
        guard constantTimeEqual(expected, blob[signedLength...]) else { return nil }
        let cipherLength = signedLength - blockSize
        var plaintext = Array(blob[..<cipherLength])
        let iv = Array(blob[cipherLength..<signedLength])
        do {
            try key.crypt(encrypt: false, iv: iv, &plaintext)
        } catch {
            wipe(&plaintext)
            throw error
        }
        // PKCS #7: 1 to 16 bytes, each the count. libsecret does not check; a verified blob
        // that fails here was written wrongly, not tampered with.
        let padding = Int(plaintext.last ?? 0)
        guard padding >= 1, padding <= blockSize, plaintext.suffix(padding).allSatisfy({ $0 == UInt8(padding) }) else {
            wipe(&plaintext)
            throw .corrupt("an item's padding is malformed")
        }
        plaintext.removeLast(padding)
        return plaintext
    }

    /// Random bytes for a new file's salt.
    static func randomSalt() throws(KeyringError) -> [UInt8] {
        try ready()
        var salt = [UInt8](repeating: 0, count: saltSize)
        gcry_create_nonce(&salt, saltSize)
        return salt
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    private static func ready() throws(KeyringError) {
        guard initialized else { throw .crypto("libgcrypt is older than the one SecureStore was built with") }
    }
    private static let initialized = securestore_gcrypt_ready() != 0
}
#endif
