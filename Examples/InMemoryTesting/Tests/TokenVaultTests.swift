import SecureStore
import Testing
import TokenVault

/// How a user tests their own code with InMemoryBackend: no keyring, no daemon, same rules.
@Suite("Example: testing with InMemoryBackend")
struct TokenVaultTests {
    @Test func signInAndOut() async throws {
        let vault = TokenVault(store: SecureStore(backend: InMemoryBackend()))
        #expect(await vault.state() == .signedOut)
        try await vault.save(accessToken: "access-1", refreshToken: "refresh-1")
        #expect(await vault.state() == .signedIn(accessToken: "access-1"))
        try await vault.signOut()
        #expect(await vault.state() == .signedOut)
    }

    @Test func storesWhatTheKeyringShouldHold() async throws {
        let keyring = InMemoryBackend.Keyring()
        let vault = TokenVault(store: SecureStore(backend: InMemoryBackend(applicationID: "com.example.MyApp", keyring: keyring)))
        try await vault.save(accessToken: "a", refreshToken: "r")
        // Records carry the attributes, never the values.
        #expect(keyring.records.map(\.key) == ["accessToken", "refreshToken"])
        #expect(keyring.records.allSatisfy { $0.service == "oauth" && $0.accessible == .afterFirstUnlock })
    }

    @Test func aLockedKeyringIsNotASignOut() async throws {
        let keyring = InMemoryBackend.Keyring()
        let vault = TokenVault(store: SecureStore(backend: InMemoryBackend(keyring: keyring)))
        try await vault.save(accessToken: "a", refreshToken: "r")
        keyring.isLocked = true
        #expect(await vault.state() == .locked)
        keyring.isLocked = false
        #expect(await vault.state() == .signedIn(accessToken: "a"))
    }

    @Test func anUnavailableKeyringIsReported() async throws {
        let keyring = InMemoryBackend.Keyring()
        keyring.simulatedError = SecureStoreError(.serviceUnavailable, "no Secret Service in this test")
        let vault = TokenVault(store: SecureStore(backend: InMemoryBackend(keyring: keyring)))
        #expect(await vault.state() == .keyringUnavailable)
    }
}
