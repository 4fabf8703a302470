import SecureStore

/// The rules of ``SecureStoreBackend``'s contract as checks that any test framework can run
/// against any backend: yours, too.
///
/// ```swift
/// import SecureStoreContract
/// import Testing
///
/// @Test(arguments: BackendContract.Check.allCases)
/// func myBackendKeepsTheContract(check: BackendContract.Check) async throws {
///     let keyring = MyKeyring()
///     try await BackendContract { applicationID in MyBackend(applicationID: applicationID, keyring: keyring) }
///         .verify(check)
/// }
/// ```
///
/// Every check goes through ``SecureStore``, as an app does, with application IDs and services
/// of its own, and removes what it wrote before it returns (also when it fails). The package runs
/// these checks against each of its own backends.
public struct BackendContract: Sendable {
    /// Makes the backend of an application. Backends made for different application IDs must
    /// share one keyring, as apps share the desktop's.
    public typealias MakeBackend = @Sendable (_ applicationID: String) async throws -> any SecureStoreBackend

    /// One rule of the contract.
    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Values come back byte for byte: empty, NUL, every byte value, bytes that are not UTF-8.
        case valuesRoundTripByteForByte
        /// A missing key reads `nil`, is not contained, and deletes without an error.
        case missingKeysReadNilAndDeleteSucceeds
        /// An overwrite, also with another accessibility, leaves one key with the new value.
        case overwriteReplacesTheValueAndLeavesOneKey
        /// Items of one service are invisible to another, to `allKeys` and to `deleteAll`.
        case servicesIsolateItems
        /// Items of one application are invisible to another.
        case applicationsIsolateItems
        /// Every application naming an access group sees its items; its own items are apart.
        case accessGroupsAreSharedAndApartFromTheApplication
        /// `synchronizable` selects items: `.no` and `.yes` their own, `.any` both, preferring
        /// the non-synchronizable one.
        case synchronizableSelectsItems
        /// `allKeys` lists each key once, sorted.
        case allKeysAreSortedAndEachOnce
        /// Names are their bytes: canonically equivalent services are two services.
        case namesAreTheirBytes
        /// Many tasks writing at once lose nothing and duplicate nothing.
        case concurrentWritesLoseNothing

        public var description: String { rawValue }
    }

    /// A rule the backend broke.
    public struct Violation: Error, CustomStringConvertible {
        public var check: Check
        public var message: String
        public var description: String { "\(check): \(message)" }
    }

    let makeBackend: MakeBackend
    let applicationPrefix: String

    /// The contract for the backends `makeBackend` makes. `applicationPrefix` starts every
    /// application ID the checks use; each check adds its own name and a random suffix.
    public init(applicationPrefix: String = "securestore-contract", makeBackend: @escaping MakeBackend) {
        self.makeBackend = makeBackend
        self.applicationPrefix = applicationPrefix
    }

    /// Runs every check; throws the first ``Violation``.
    public func verify() async throws {
        for check in Check.allCases { try await verify(check) }
    }

    /// Runs `check`; throws a ``Violation`` when the backend breaks it, or what a call threw.
    public func verify(_ check: Check) async throws {
        let run = ContractRun(check: check, applicationPrefix: "\(applicationPrefix).\(check.rawValue).\(UInt32.random(in: 0...UInt32.max))",
                              makeBackend: makeBackend)
        do {
            try await run.perform()
        } catch {
            await run.cleanUp()
            throw error
        }
        await run.cleanUp()
    }
}
