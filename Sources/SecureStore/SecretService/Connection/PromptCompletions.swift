#if canImport(CLibSecret)
import CLibSecret
import Dispatch

/// The `Prompt.Completed` signals that callers of `SecretServiceConnection.runPrompt` wait for,
/// handed over by the message filter (see `SecretServiceSignals.observe`), which lets through
/// only what the service's current owner broadcast. A waiter also names the daemon it asked, so
/// a prompt path that a new daemon gives out again completes nothing of the old one's.
enum PromptCompletions {
    /// How a prompt ended: dismissed, or with its result when that is an object path (the
    /// item `CreateItem`'s prompt made).
    struct Outcome: Sendable, Equatable {
        var dismissed: Bool
        var objectPath: String?
        /// The object paths of a result of type `ao` (what an unlock unlocked).
        var objectPaths: [String] = []

        /// What a prompt's result (the `Completed` signal's value, unboxed) says.
        init(dismissed: Bool, result: OpaquePointer?) {
            self.dismissed = dismissed
            guard let result else { return }
            switch String(cString: g_variant_get_type_string(result)) {
            case "o": objectPath = String(cString: g_variant_get_string(result, nil))
            case "ao": objectPaths = GLibValues.objectPaths(g_variant_ref(result))
            default: break
            }
        }

        init(dismissed: Bool, objectPath: String?) {
            self.dismissed = dismissed
            self.objectPath = objectPath
        }
    }

    private struct Waiter {
        var owner: String
        var completion: @Sendable (Outcome) -> Void
    }

    private static let waiters = Locked<[String: Waiter]>([:])

    /// Calls `completion` (once, on GDBus's I/O thread) when `owner` announces that the prompt at
    /// `path` completed, unless `forget(path)` came first.
    static func await(_ path: String, from owner: String, _ completion: @escaping @Sendable (Outcome) -> Void) {
        waiters.withLock { $0[path] = Waiter(owner: owner, completion: completion) }
    }

    static func forget(_ path: String) {
        _ = waiters.withLock { $0.removeValue(forKey: path) }
    }

    /// A `Completed` signal (`(bv)`) that `sender`, the service's owner, broadcast at `path`.
    static func received(at path: String, from sender: String, body: OpaquePointer?) {
        guard let body, String(cString: g_variant_get_type_string(body)) == "(bv)" else { return }
        let waiter = waiters.withLock { waiters -> Waiter? in
            guard let waiter = waiters[path], waiter.owner == sender else { return nil }
            waiters.removeValue(forKey: path)
            return waiter
        }
        guard let waiter else { return }
        let dismissed = g_variant_get_child_value(body, 0).map { flag in
            defer { g_variant_unref(flag) }
            return g_variant_get_boolean(flag) != 0
        } ?? true
        let boxed = g_variant_get_child_value(body, 1)
        let result = boxed.flatMap { g_variant_get_variant($0) }
        defer {
            result.map { g_variant_unref($0) }
            boxed.map { g_variant_unref($0) }
        }
        waiter.completion(Outcome(dismissed: dismissed, result: result))
    }
}
#endif
