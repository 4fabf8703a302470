#if canImport(CLibSecret)
/// Derived keys by password, salt and iteration count, so that reading a changed file costs
/// no key derivation (100,000 PBKDF2 rounds, tens of milliseconds) unless its salt changed.
enum KeyCache {
    private struct Entry: Hashable {
        var password: [UInt8]
        var salt: [UInt8]
        var iterations: UInt32
    }
    private static let keys = Locked<[Entry: KeyringCrypto.Key]>([:])
    /// A process uses one or two keyrings; more entries mean a hostile stream of salts.
    private static let capacity = 8

    static func key(password: [UInt8], salt: [UInt8], iterations: UInt32) throws(KeyringError) -> KeyringCrypto.Key {
        let entry = Entry(password: password, salt: salt, iterations: iterations)
        if let key = keys.withLock({ $0[entry] }) { return key }
        let key = try KeyringCrypto.deriveKey(password: password, salt: salt, iterations: iterations)
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll() }
            keys[entry] = key
        }
        return key
    }
}
#endif
