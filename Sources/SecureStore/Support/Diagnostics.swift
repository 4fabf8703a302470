import Logging

extension Logger {
    /// The logger of a store or backend that was given none: it logs nothing.
    static let disabled = Logger(label: "dev.securestore", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// The metadata keys of SecureStore's log messages. Messages and metadata name keys, services,
/// providers and object paths, never a value, a password or key material.
enum LogKey {
    static let operation = "securestore.operation"
    static let key = "securestore.key"
    static let service = "securestore.service"
    static let provider = "securestore.provider"
    static let durationMilliseconds = "securestore.duration_ms"
    static let error = "securestore.error"
    static let reason = "securestore.reason"
    static let keyring = "securestore.keyring"
    static let passwordSource = "securestore.password_source"
    static let undo = "securestore.undo"
    static let owner = "securestore.owner"
    static let ownerProcessID = "securestore.owner_pid"
    static let quirks = "securestore.quirks"
    static let remembers = "securestore.remembers"
}

extension Duration {
    /// Milliseconds, rounded to a tenth, for log metadata.
    var loggedMilliseconds: Logger.MetadataValue {
        let (seconds, attoseconds) = components
        let tenths = (Double(seconds) * 1e4 + Double(attoseconds) / 1e14).rounded() / 10
        return "\(tenths)"
    }
}

extension Error {
    /// What a log message says of an error: its code and message (which never hold a value).
    var loggedDescription: Logger.MetadataValue {
        switch self {
        case let error as SecureStoreError: "\(error.code.rawValue): \(error.message)"
        case is CancellationError: "cancelled"
        default: "\(type(of: self)): \(self)"
        }
    }
}
