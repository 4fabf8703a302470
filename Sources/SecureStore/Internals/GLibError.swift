#if canImport(CLibSecret)
import CLibSecret

/// A GError, copied out of C before the GError is freed.
struct GLibError: Error {
    var domain: GQuark
    var code: Int32
    var message: String
    /// The D-Bus error name the service replied with, such as
    /// `org.freedesktop.Secret.Error.NoSession`, when GLib has no code of its own for it.
    var remoteName: String?

    var domainName: String { g_quark_to_string(domain).map { String(cString: $0) } ?? "unknown" }

    init(domain: GQuark, code: Int32, message: String, remoteName: String? = nil) {
        self.domain = domain
        self.code = code
        self.message = message
        self.remoteName = remoteName
    }

    /// Copies `error` (which the caller still frees).
    init(_ error: UnsafeMutablePointer<GError>) {
        self.init(domain: error.pointee.domain, code: error.pointee.code,
                  message: error.pointee.message.map { String(cString: $0) } ?? "",
                  remoteName: GLibValues.takeString(g_dbus_error_get_remote_error(error)))
    }

    /// GIO's and GDBus's error domains, and the GIO codes every caller tells apart.
    static var io: GQuark { g_io_error_quark() }
    static var dbus: GQuark { g_dbus_error_quark() }
    static let cancelled = G_IO_ERROR_CANCELLED.rawValue
    static let ioTimedOut = G_IO_ERROR_TIMED_OUT.rawValue

    func `is`(_ domain: GQuark, _ code: UInt32) -> Bool {
        self.domain == domain && self.code == Int32(bitPattern: code)
    }
}

/// Calls `body` with a GError out-parameter and throws the GError it sets, if any.
func withGError<T>(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T) throws(GLibError) -> T {
    var error: UnsafeMutablePointer<GError>?
    let result = body(&error)
    if let error {
        defer { g_error_free(error) }
        throw GLibError(error)
    }
    return result
}
#endif
