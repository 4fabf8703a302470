#if canImport(CLibSecret)
import CLibSecret

extension BlockingCall {
    /// The item whose value a read of a key returns when several items hold it: the one last
    /// modified (then last created). An overwrite that changes the accessibility makes a new
    /// item before it deletes the old one; cut between the two (the process killed), both
    /// stay until the key's next write removes the old one, and the old value must not be read
    /// meanwhile. `nil` when the newest two carry the same times (the Secret Service counts in
    /// seconds): which one is the key's value cannot be told, and the caller refuses to guess.
    /// An item gone meanwhile is left out.
    func newestItem(of paths: [String]) throws -> String? {
        guard paths.count > 1 else { return paths.first }
        var stamped: [(path: String, stamp: [UInt64])] = []
        for path in paths {
            if let stamp = try times(of: path) { stamped.append((path, stamp)) }
        }
        stamped.sort { $0.stamp.lexicographicallyPrecedes($1.stamp) }
        guard let newest = stamped.last else { return nil }
        if stamped.count > 1, stamped[stamped.count - 2].stamp == newest.stamp { return nil }
        return newest.path
    }

    /// The item's `Modified` and `Created` times, or `nil` when it is gone.
    private func times(of path: String) throws -> [UInt64]? {
        do {
            return [try time("Modified", of: path), try time("Created", of: path)]
        } catch {
            if let error = error as? GLibError, ServiceErrors.isNoSuchObject(error) { return nil }
            throw error
        }
    }

    /// An item's `Created` or `Modified` property: seconds since 1970.
    private func time(_ name: String, of path: String) throws -> UInt64 {
        guard let value = try connection.property("org.freedesktop.Secret.Item", name, at: path, cancellation: cancellation) else {
            throw GLibError.protocolViolation("The item has no \(name) time")
        }
        defer { g_variant_unref(value) }
        guard String(cString: g_variant_get_type_string(value)) == "t" else {
            throw GLibError.protocolViolation("The item's \(name) time is not a number")
        }
        return UInt64(g_variant_get_uint64(value))
    }
}
#endif
