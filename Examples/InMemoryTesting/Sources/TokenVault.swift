// A piece of a user's app that keeps an OAuth token pair in SecureStore. Its tests
// (Tests/TokenVaultTests.swift) run it on InMemoryBackend: fast, no keyring needed, and with
// the same behaviour as the desktop keyring, locked keyring and failures included.
import SecureStore

public struct TokenVault: Sendable {
    public enum State: Equatable, Sendable {
        case signedIn(accessToken: String)
        case signedOut
        /// The keyring is locked and the user declined (or could not be asked) to unlock it.
        case locked
        case keyringUnavailable
    }

    private let store: SecureStore
    private let options = SecureStoreOptions(keychainService: "oauth", keychainAccessible: .afterFirstUnlock)

    /// In the app: `TokenVault(store: try SecureStore(applicationID: "com.example.MyApp"))`.
    public init(store: SecureStore) {
        self.store = store
    }

    public func save(accessToken: String, refreshToken: String) async throws {
        try await store.setItem("refreshToken", refreshToken, options: options)
        try await store.setItem("accessToken", accessToken, options: options)
    }

    public func state() async -> State {
        do {
            guard let token = try await store.getItem("accessToken", options: options) else { return .signedOut }
            return .signedIn(accessToken: token)
        } catch let error as SecureStoreError where [.interactionNotAllowed, .authenticationCanceled].contains(error.code) {
            return .locked
        } catch {
            return .keyringUnavailable
        }
    }

    public func signOut() async throws {
        try await store.deleteAll(options: options)
    }
}
