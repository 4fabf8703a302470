import Dispatch
import Testing
@testable import SecureStore
#if canImport(CLibSecret)

/// A call cancelled (or timed out) while its connection opens ends as cancelled, whichever step
/// the cancellation caught. GDBus ends every reply not yet handed over when the cancellation
/// came as cancelled: such a reply must not read as the bus refusing the signals' rules
/// (`ERR_SERVICE_UNAVAILABLE` for a cancelled call), nor as a provider with no name of its own
/// (a connection shared with every later call of the process, its provider's quirks unknown).
@Suite("Opening a connection", TestSelection(), .tags(.keyring))
struct ConnectingTests {
    /// The bus's answers (the signals' rules, the service's owner, the provider's names) are
    /// sent before the transfer session opens and read after it: the cancellation comes between.
    /// Once on the bus as it is, then with the rules in place, where only the names are asked.
    @Test func aCancellationAfterTheSessionOpenedEndsTheOpeningAsCancelled() async throws {
        for rulesInPlace in [false, true] {
            // Held: GLib drops the bus connection, rules and all, with its last reference.
            let holdingTheRules = rulesInPlace ? try await Self.open(GCancellation()) {}.get() : nil
            defer { withExtendedLifetime(holdingTheRules) {} }
            let cancellation = GCancellation()
            switch await Self.open(cancellation, whenServiceOpened: cancellation.cancel) {
            case .success(let connection):
                Issue.record("a connection was opened on cancelled answers, its provider \(connection.provider)")
            case .failure(let error):
                #expect(GCancellation.isCancellation(error), "rules in place: \(rulesInPlace); \(error.message)")
            }
        }
    }

    /// The control: the same opening, not cancelled, tells the provider the test runs against.
    @Test func anOpeningNotCancelledTellsTheProvider() async throws {
        let connection = try await Self.open(GCancellation()) {}.get()
        let expected: [String: SecretServiceProvider] = ["gnome-keyring": .gnomeKeyring, "keepassxc": .keePassXC, "kwallet": .kWallet]
        #expect(connection.provider == expected[TestSelection.environment["SECURESTORE_PROVIDER"] ?? "gnome-keyring"])
    }

    /// Opens a connection on a thread of its own (the opening blocks).
    static func open(_ cancellation: GCancellation, whenServiceOpened: @escaping @Sendable () -> Void) async -> Result<SecretServiceConnection, GLibError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(GLibError) in
                    try SecretServiceConnection(cancellation: cancellation, whenServiceOpened: whenServiceOpened)
                })
            }
        }
    }
}
#endif
