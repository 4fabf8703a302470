/// The one error type SecureStore throws (besides `CancellationError` when the calling task is
/// cancelled). Its ``code`` is stable and says what the caller can do; its ``message`` is for
/// people. Neither ever contains a stored value.
public struct SecureStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, Expo-style error code such as `ERR_INVALID_KEY`.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The key is empty or has a character other than ASCII letters, digits, `.`, `-`, `_`.
        /// Fix the key; nothing was sent to the backend.
        public static let invalidKey = Code(rawValue: "ERR_INVALID_KEY")
        /// The options contradict each other or hold an unusable string. Fix the options.
        public static let invalidOptions = Code(rawValue: "ERR_INVALID_OPTIONS")
        /// The value is over ``SecureStore/maximumValueSize`` bytes. Store less.
        public static let valueTooLarge = Code(rawValue: "ERR_VALUE_TOO_LARGE")
        /// A string was asked for, but the item holds bytes that are not UTF-8 (stored as bytes,
        /// or by another program). Nothing was changed; read it with ``SecureStore/getBytes(_:options:)``.
        public static let valueNotUTF8 = Code(rawValue: "ERR_VALUE_NOT_UTF8")
        /// A typed value could not be encoded to JSON (`setValue` of the SecureStoreCodable module);
        /// nothing was stored.
        public static let encodingFailed = Code(rawValue: "ERR_ENCODING_FAILED")
        /// The item does not decode as the type asked for (`getValue` of SecureStoreCodable):
        /// it was stored as another type or by another program. Nothing was changed.
        public static let decodingFailed = Code(rawValue: "ERR_DECODING_FAILED")
        /// No D-Bus session bus, or no Secret Service on it (and no keyring file named: see
        /// ``FallbackKeyringFile``). Nothing was changed; try later, tell the user to start a
        /// keyring (GNOME Keyring, KWallet, KeePassXC), or name a keyring file.
        public static let serviceUnavailable = Code(rawValue: "ERR_SERVICE_UNAVAILABLE")
        /// The keyring is locked and the store may not prompt. Retry with user interaction
        /// allowed, or after the user unlocks the keyring.
        public static let interactionNotAllowed = Code(rawValue: "ERR_INTERACTION_NOT_ALLOWED")
        /// The user dismissed the unlock dialog, or it could not be shown. Nothing was changed.
        public static let authenticationCanceled = Code(rawValue: "ERR_AUTHENTICATION_CANCELED")
        /// `requireAuthentication` was asked for, but this platform has no biometric API.
        public static let authenticationUnsupported = Code(rawValue: "ERR_AUTHENTICATION_UNSUPPORTED")
        /// The backend did not answer within the store's timeout. The item may or may not have
        /// been written; read it back before relying on either.
        public static let timeout = Code(rawValue: "ERR_TIMEOUT")
        /// Any other backend failure; ``SecureStoreError/backendDomain`` and
        /// ``SecureStoreError/backendCode`` carry the backend's own error.
        public static let keyChain = Code(rawValue: "ERR_KEY_CHAIN")
    }

    public var code: Code
    public var message: String
    /// For ``Code/keyChain`` and other mapped backend errors: the backend's error domain
    /// (for the Secret Service, the GError domain such as `g-dbus-error-quark`).
    public var backendDomain: String?
    /// The backend's own error code within ``backendDomain``.
    public var backendCode: Int?

    public init(_ code: Code, _ message: String, backendDomain: String? = nil, backendCode: Int? = nil) {
        self.code = code
        self.message = message
        self.backendDomain = backendDomain
        self.backendCode = backendCode
    }

    public var description: String {
        guard let backendDomain, let backendCode else { return "\(code.rawValue): \(message)" }
        return "\(code.rawValue): \(message) [\(backendDomain) \(backendCode)]"
    }
}

extension SecureStoreError {
    /// Expo's message, word for word.
    static let invalidKeyMessage = "Invalid key provided to SecureStore. Keys must not be empty and contain only alphanumeric characters, \".\", \"-\", and \"_\"."

    static var invalidKey: SecureStoreError { SecureStoreError(.invalidKey, invalidKeyMessage) }

    static func invalidOptions(_ message: String) -> SecureStoreError {
        SecureStoreError(.invalidOptions, message)
    }
}
