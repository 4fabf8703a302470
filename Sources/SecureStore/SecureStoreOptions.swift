/// Options for one SecureStore call, with the names and meaning of Expo's `SecureStoreOptions`.
public struct SecureStoreOptions: Sendable, Equatable {
    /// The service used when ``keychainService`` is `nil`, as in Expo.
    public static let defaultService = "app"

    /// Groups items, like Expo's `keychainService` (Apple's `kSecAttrService`). Items of one
    /// service are invisible to every other. `nil` means ``defaultService``.
    public var keychainService: String?

    /// When the item may be read. Stored with the item and replaced on overwrite. On the
    /// Secret Service, lock state belongs to a whole collection, so the cases differ only in
    /// what is recorded and in whether the item may be synchronizable (see ``KeychainAccessible``).
    public var keychainAccessible: KeychainAccessible

    /// Expo's biometric gate. No biometric API exists on Linux, so `true` makes every call throw
    /// ``SecureStoreError/Code/authenticationUnsupported`` unless the backend says
    /// ``SecureStoreBackend/canUseBiometricAuthentication`` is `true`.
    public var requireAuthentication: Bool

    /// The text Expo shows in the biometric prompt. Accepted for portability; the Secret Service
    /// shows its own unlock dialog and never this text.
    public var authenticationPrompt: String?

    /// Apple's `kSecAttrSynchronizable`: `.no` (default) sees only items that stay on this
    /// machine, `.yes` only synchronizable ones, `.any` both (reads and deletes).
    public var synchronizable: Synchronizable

    /// Expo's `accessGroup` (Apple's `kSecAttrAccessGroup`): items written with a group are
    /// shared by every application that names the same group, and invisible to calls without
    /// it (and to other groups). `nil` (the default) keeps items in the application's own
    /// namespace. Like the application ID, a group is a namespace, not a security boundary.
    public var accessGroup: String?

    public init(
        keychainService: String? = nil,
        keychainAccessible: KeychainAccessible = .whenUnlocked,
        requireAuthentication: Bool = false,
        authenticationPrompt: String? = nil,
        synchronizable: Synchronizable = .no,
        accessGroup: String? = nil
    ) {
        self.keychainService = keychainService
        self.keychainAccessible = keychainAccessible
        self.requireAuthentication = requireAuthentication
        self.authenticationPrompt = authenticationPrompt
        self.synchronizable = synchronizable
        self.accessGroup = accessGroup
    }

    /// ``keychainService``, or ``defaultService`` when it is `nil`.
    public var service: String { keychainService ?? Self.defaultService }
}

/// Expo's `SecureStore` accessibility constants, with the same raw values
/// (`SecureStore.AFTER_FIRST_UNLOCK` is 0 ... `WHEN_UNLOCKED_THIS_DEVICE_ONLY` is 6).
public enum KeychainAccessible: Int, Sendable, CaseIterable {
    case afterFirstUnlock = 0
    case afterFirstUnlockThisDeviceOnly = 1
    case always = 2
    case whenPasscodeSetThisDeviceOnly = 3
    case alwaysThisDeviceOnly = 4
    case whenUnlocked = 5
    case whenUnlockedThisDeviceOnly = 6

    /// Expo's constant name, e.g. `WHEN_UNLOCKED`; this is what the Secret Service item records.
    public var expoName: String {
        switch self {
        case .afterFirstUnlock: "AFTER_FIRST_UNLOCK"
        case .afterFirstUnlockThisDeviceOnly: "AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY"
        case .always: "ALWAYS"
        case .whenPasscodeSetThisDeviceOnly: "WHEN_PASSCODE_SET_THIS_DEVICE_ONLY"
        case .alwaysThisDeviceOnly: "ALWAYS_THIS_DEVICE_ONLY"
        case .whenUnlocked: "WHEN_UNLOCKED"
        case .whenUnlockedThisDeviceOnly: "WHEN_UNLOCKED_THIS_DEVICE_ONLY"
        }
    }

    /// The accessibility whose ``expoName`` is `name`.
    public init?(expoName name: String) {
        guard let match = Self.allCases.first(where: { $0.expoName == name }) else { return nil }
        self = match
    }

    /// `*ThisDeviceOnly` items never leave this machine, so they cannot be synchronizable.
    public var isThisDeviceOnly: Bool {
        switch self {
        case .afterFirstUnlockThisDeviceOnly, .whenPasscodeSetThisDeviceOnly,
             .alwaysThisDeviceOnly, .whenUnlockedThisDeviceOnly:
            true
        case .afterFirstUnlock, .always, .whenUnlocked:
            false
        }
    }
}

/// Apple's `kSecAttrSynchronizable` and `kSecAttrSynchronizableAny`.
///
/// A synchronizable and a non-synchronizable item with the same key are two items, as in
/// Apple's keychain.
public enum Synchronizable: Sendable, Hashable {
    /// Only items that stay on this machine (the default).
    case no
    /// Only synchronizable items.
    case yes
    /// Both kinds. A read prefers the non-synchronizable item; a write updates every existing
    /// item of the key (or creates a non-synchronizable one); a delete removes both.
    case any

    /// The synchronizable states this value matches, non-synchronizable first.
    public var matchingStates: [Bool] {
        switch self {
        case .no: [false]
        case .yes: [true]
        case .any: [false, true]
        }
    }
}
