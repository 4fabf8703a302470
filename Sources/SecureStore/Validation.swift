/// Checks made at the API's edge, before any backend call, so every backend sees the same
/// valid input and rejects the same invalid input.
enum Validation {
    /// `^[A-Za-z0-9._-]+$`, the rule Expo applies with JavaScript's ASCII-only `\w`.
    static func isValidKey(_ key: String) -> Bool {
        var utf8 = key.utf8.makeIterator()
        guard var byte = utf8.next() else { return false }
        while true {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                break
            default:
                return false
            }
            guard let next = utf8.next() else { return true }
            byte = next
        }
    }

    static func checkKey(_ key: String) throws(SecureStoreError) {
        guard isValidKey(key) else { throw .invalidKey }
    }

    static func checkValueSize(_ size: Int) throws(SecureStoreError) {
        guard size <= SecureStore.maximumValueSize else {
            throw SecureStoreError(
                .valueTooLarge, "The value is \(size) bytes; SecureStore stores at most \(SecureStore.maximumValueSize).")
        }
    }

    /// Options valid for any call; `isWrite` adds the rules that only make sense on a write.
    static func checkOptions(
        _ options: SecureStoreOptions, isWrite: Bool, canUseBiometricAuthentication: Bool
    ) throws(SecureStoreError) {
        if let service = options.keychainService {
            guard !service.isEmpty else {
                throw .invalidOptions("keychainService must not be empty; use nil for the default service \"\(SecureStoreOptions.defaultService)\".")
            }
            try checkNameIsExact(service, "keychainService")
        }
        if let group = options.accessGroup {
            guard !group.isEmpty else {
                throw .invalidOptions("accessGroup must not be empty; use nil for the application's own items.")
            }
            try checkNameIsExact(group, "accessGroup")
        }
        if let prompt = options.authenticationPrompt, prompt.utf8.contains(0) {
            throw .invalidOptions("authenticationPrompt must not contain U+0000.")
        }
        if options.requireAuthentication && !canUseBiometricAuthentication {
            throw SecureStoreError(
                .authenticationUnsupported,
                "requireAuthentication is not supported: this platform has no biometric authentication (canUseBiometricAuthentication() is false).")
        }
        if isWrite && options.synchronizable != .no && options.keychainAccessible.isThisDeviceOnly {
            throw .invalidOptions("A \(options.keychainAccessible.expoName) item never leaves this device, so it cannot be synchronizable (synchronizable: .\(options.synchronizable)).")
        }
    }

    /// An application ID names a namespace of items: non-empty, no control characters.
    static func checkApplicationID(_ applicationID: String) throws(SecureStoreError) {
        guard !applicationID.isEmpty else { throw .invalidOptions("The application ID must not be empty.") }
        try checkNameIsExact(applicationID, "The application ID")
    }

    /// Names that select items (application ID, service, access group) hold no C0 control
    /// character (U+0000-U+001F) or U+007F, and do not start with a byte order mark: providers
    /// would find or store another name than the one given. NUL cannot cross libsecret's C
    /// strings; KeePassXC matches attributes with a regular expression whose `$` also matches
    /// before a final newline (a search for `mail` finds `mail\n`'s items); KWallet drops a
    /// leading U+FEFF (Qt's `QString::fromUtf8`), so `\u{FEFF}mail` would replace `mail`'s item.
    static func checkNameIsExact(_ name: String, _ what: String) throws(SecureStoreError) {
        guard !name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalidOptions("\(what) must not contain control characters (U+0000-U+001F, U+007F).")
        }
        guard !name.hasPrefix("\u{FEFF}") else {
            throw .invalidOptions("\(what) must not start with U+FEFF (a byte order mark, which KWallet drops).")
        }
    }
}
