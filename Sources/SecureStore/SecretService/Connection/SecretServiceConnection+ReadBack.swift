#if canImport(CLibSecret)
import CLibSecret

extension SecretServiceConnection {
    /// What `readBackAndSearch` heard: the item's secret (`nil`: none returned, the item locked
    /// or gone meanwhile) and the search's items, each a reply or an error.
    struct ReadBackAndSearch: Sendable {
        var stored: Result<SecretBytes?, GLibError>
        var found: Result<(unlocked: [String], locked: [String]), GLibError>
    }

    /// `GetSecrets` of the item at `path` and `SearchItems` for `selection`, sent together:
    /// one round trip (see `callEach`). Read once, so only on a verified session (see
    /// `mustReadTwice`). Blocks no thread.
    func readBackAndSearch(_ path: String, _ selection: [String: String], timeout: Duration) async throws -> ReadBackAndSearch {
        let service = ServicePointer(pointer: service)
        let replies = try await callEach([
            MethodCall(path: Self.servicePath, interface: "org.freedesktop.Secret.Service", method: "GetSecrets",
                       arguments: try getSecretsArguments([path]), replyType: "(a{o(oayays)})"),
            MethodCall(path: Self.servicePath, interface: "org.freedesktop.Secret.Service", method: "SearchItems",
                       arguments: GLibValues.tuple([makeStringDictionary(selection)]), replyType: "(aoao)"),
        ], autoStart: false, timeout: timeout) { index, body throws(GLibError) -> Reply in
            index == 0
                ? .stored(try Self.decodeSecrets(body, of: [path], service: service)[path])
                : .found(unlocked: GLibValues.objectPaths(g_variant_get_child_value(body, 0)), locked: GLibValues.objectPaths(g_variant_get_child_value(body, 1)))
        }
        return ReadBackAndSearch(
            stored: replies[0].flatMap { reply in
                guard case .stored(let secret) = reply else { return .failure(.protocolViolation("GetSecrets: no secrets")) }
                return .success(secret)
            },
            found: replies[1].flatMap { reply in
                guard case .found(let unlocked, let locked) = reply else { return .failure(.protocolViolation("SearchItems: no paths")) }
                return .success((unlocked, locked))
            })
    }

    /// A reply of `readBackAndSearch`'s batch, decoded.
    private enum Reply: Sendable {
        case stored(SecretBytes?)
        case found(unlocked: [String], locked: [String])
    }
}
#endif
