/// Runs `body`, then `cleanUp`, whether `body` threw or not: an awaited cleanup, which
/// `defer { Task { ... } }` is not. A cleanup that fails after a failed body is ignored.
func withCleanUp(_ cleanUp: () async throws -> Void, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        try? await cleanUp()
        throw error
    }
    try await cleanUp()
}
