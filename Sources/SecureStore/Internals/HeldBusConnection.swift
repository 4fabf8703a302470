#if canImport(CLibSecret)
import CLibSecret

/// A reference to a bus connection, released with this object. GLib finalizes the shared
/// session bus connection once nobody holds it, and its match rules go with it: whatever must
/// go on hearing signals holds one of these.
final class HeldBusConnection: @unchecked Sendable {
    let bus: OpaquePointer

    /// Takes over the caller's reference to `bus`.
    init(taking bus: OpaquePointer) {
        self.bus = bus
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(bus))
    }
}
#endif
