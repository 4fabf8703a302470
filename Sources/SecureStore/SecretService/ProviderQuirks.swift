#if canImport(CLibSecret)
import Glibc

/// The program that serves `org.freedesktop.secrets`. Told first from the bus: the well-known
/// names the service's owner also holds (``busNames``), which hold in any PID namespace; then
/// from the owner's process name, which a Flatpak's PID namespace, `hidepid=` or a container
/// given the bus hides. The backend speaks the same protocol to all of them; `ProviderQuirks`
/// says where it must not.
enum SecretServiceProvider: Sendable, Equatable {
    case gnomeKeyring
    case keePassXC
    case kWallet
    /// Another provider, named by its process: treated like GNOME Keyring.
    case other
    /// Neither the bus nor the process name said: it may be KWallet, so it is treated as
    /// KWallet where that is the safe side (secrets read twice until the session is verified,
    /// writes read back).
    case unidentified

    /// The well-known names that tell a provider: its owner also owns `org.freedesktop.secrets`.
    static let busNames: [(name: String, provider: SecretServiceProvider)] = [
        ("org.kde.kwalletd5", .kWallet), ("org.kde.kwalletd6", .kWallet), ("org.kde.kwalletd", .kWallet),
        ("org.gnome.keyring", .gnomeKeyring), ("org.keepassxc.KeePassXC.MainWindow", .keePassXC),
    ]

    /// The provider that `serviceOwner` (the unique name owning `org.freedesktop.secrets`) is:
    /// by the first of ``busNames`` whose owner (`busNameOwners`, in that order, `nil` where the
    /// name has none) it is, else by `processName`.
    init(serviceOwner: String?, busNameOwners: [String?], processName: String?) {
        if let serviceOwner, let index = busNameOwners.firstIndex(where: { $0 == serviceOwner }) {
            self = Self.busNames[index].provider
        } else {
            self.init(processName: processName)
        }
    }

    init(processName: String?) {
        switch processName {
        case "gnome-keyring-d": self = .gnomeKeyring   // comm is cut to 15 bytes
        case "keepassxc": self = .keePassXC
        case "kwalletd5", "kwalletd6", "ksecretd": self = .kWallet
        case nil: self = .unidentified
        default: self = .other
        }
    }

    /// The first line of `/proc/PID/comm`, or `nil` when it cannot be read (another PID
    /// namespace, or the process is gone).
    static func processName(pid: UInt32) -> String? {
        let descriptor = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }
}

/// Where Secret Service providers other than GNOME Keyring answer differently, and what the
/// backend does about it: one place, so each deviation is named once with its reason.
/// (`Validation.checkNameIsExact` and `ItemSchema.contentType(of:kind:)` hold the two
/// that shape what is stored; `BlockingCall.replaceSecretIfSameItem` holds KeePassXC's overwrite.)
enum ProviderQuirks {
    /// KWallet answers a call on an item that no longer exists (deleted by another task since
    /// the search) with `InvalidArgs` "Can't find item at path ...", where gnome-keyring says
    /// `UnknownObject`: both mean "deleted meanwhile".
    static func isKWalletsMissingItem(_ error: GLibError) -> Bool {
        error.remoteName == "org.freedesktop.DBus.Error.InvalidArgs" && error.message.contains("Can't find item at path")
    }

    /// KWallet sometimes forgets a transfer session it opened ("Can't find session ..."):
    /// a new connection opens a new one.
    static func isKWalletsLostSession(_ error: GLibError) -> Bool {
        error.message.contains("Can't find session")
    }

    /// KWallet before 6.25 (KDE bug 514194) rejects about 1 in 100 of libsecret's public keys
    /// at `OpenSession` ("Client public key size is invalid"): a new attempt sends a new key.
    static func isKWalletsRejectedPublicKey(_ error: GLibError) -> Bool {
        error.message.contains("public key size is invalid")
    }

    /// KWallet before 6.25 (KDE bug 514194) sometimes derives another session key than the
    /// client: then a secret it returns cannot be decrypted (`ServiceErrors.garbledSecret`,
    /// and the connection is replaced), and a secret it is sent is stored as garbage while the
    /// call reports success. So on KWallet every write is read back and compared; a mismatch
    /// replaces the connection and writes again. GNOME Keyring and KeePassXC derive keys
    /// correctly, and their writes cost no extra round trip.
    static func writesNeedReadBack(_ provider: SecretServiceProvider) -> Bool {
        provider == .kWallet || provider == .unidentified
    }

    /// Whether `setItem` may send its search together with `CreateItem(replace: true)` (see
    /// `SecretServiceBackend.writeInOneRoundTrip`). GNOME Keyring only: KeePassXC 2.7.4 answers
    /// that `CreateItem` over an existing item with a dialog (`createMayReplace`), and an
    /// overwrite made as a new item would then delete the old one, which KeePassXC has a person
    /// confirm by default; KWallet's writes are read back and undone (`writesNeedReadBack`).
    static func writesInOneRoundTrip(_ provider: SecretServiceProvider) -> Bool {
        provider == .gnomeKeyring
    }

    /// KeePassXC (with `UnlockBeforeSearch`, its default) holds a search on a locked database
    /// until a person unlocks it, and answers `CreateItem` there with a prompt: a call without
    /// interaction would wait out its timeout. So on KeePassXC the collection's `Locked`
    /// property is read first, and a locked one is unlocked (or the call fails at once). For
    /// reads and deletes that read costs no round trip of its own: it goes out with searches
    /// that are never held (`SecretServiceConnection.searchItemsUnlessLocked`).
    static func mustCheckLockedBeforeSearching(_ provider: SecretServiceProvider) -> Bool {
        provider == .keePassXC
    }

    /// KeePassXC 2.7.4 answers `CreateItem(replace: true)` over an existing item with an
    /// "Access Request" dialog, even with `ConfirmAccessItem` off (fixed in 2.7.6). Overwrites
    /// there use `Item.SetSecret`, so `CreateItem` only ever makes new items; without `replace`
    /// a race with another process writing the same key makes a duplicate, which the next
    /// write removes, instead of a dialog nobody may answer.
    static func createMayReplace(_ provider: SecretServiceProvider) -> Bool {
        provider != .keePassXC
    }

    /// KeePassXC 2.7.4 answers every `CreateItem` with a prompt and makes nothing until the
    /// prompt runs; a dismissed prompt makes nothing. So its `CreateItem` can go out with the
    /// write's search, its prompt run only when the search found no item of the key
    /// (`SecretServiceBackend.searchBeforeWriting`).
    static func createWaitsForItsPrompt(_ provider: SecretServiceProvider) -> Bool {
        provider == .keePassXC
    }

    /// Whether an overwrite of the same item sets its secret (`Item.SetSecret`) rather than
    /// replacing the item (`CreateItem(replace: true)`): where the provider announces a new
    /// secret set that way (`ItemChanged`). GNOME Keyring 42 does not (`dbus-monitor` shows no signal), while it announces
    /// `CreateItem(replace: true)` over the same item; KeePassXC and KWallet announce both. So on
    /// GNOME Keyring an overwrite replaces through `CreateItem`, as libsecret's own store does,
    /// and `changes(options:)` in other processes hears it, at what libsecret's store costs
    /// (gnome-keyring looks through the collection for the item to replace; see
    /// docs/performance.md).
    static func overwritesBySettingTheSecret(_ provider: SecretServiceProvider) -> Bool {
        provider != .gnomeKeyring
    }

    /// Whether an overwrite that changes only the item's accessibility keeps the item and sets
    /// its `Attributes` (before its secret), rather than making a new item and deleting the old
    /// one: where a delete may ask a person. KeePassXC answers `Item.Delete` with a prompt, a
    /// dialog when the delete bypasses its recycle bin, which a `setItem` must not raise (a
    /// "no" there would leave the key with two items), and a delete through the recycle bin
    /// would keep the old secret there. GNOME Keyring and KWallet delete without asking, and their
    /// writes replace through `CreateItem` or are read back and undone (`writesNeedReadBack`),
    /// which the new item serves.
    static func changesAccessibilityInPlace(_ provider: SecretServiceProvider) -> Bool {
        provider == .keePassXC
    }

    /// Whether the provider announces every change to an item's existence and attributes
    /// (created, deleted, new attributes) with a signal before it answers the next call, which
    /// remembering item paths relies on (see `ItemPathMemory`; a new secret needs no signal
    /// there: a remembered path's read asks for the secret itself). GNOME Keyring and KeePassXC
    /// do (the coherence test checks both); KWallet announces an attribute edit only after its
    /// answer to the next call, so it is left out.
    static func signalsAnnounceEveryChange(_ provider: SecretServiceProvider) -> Bool {
        provider == .gnomeKeyring || provider == .keePassXC
    }

    /// Whether a read of a remembered item path must also read, in the same round trip, the
    /// item's attributes, and use the secret only while they still select the item. KWallet
    /// announces every new and deleted item in time, but an edit of an item's attributes only
    /// after its answer to the next call: the signal check alone would read an item that an edit
    /// has moved to another key (`CoherenceTests` on KWallet).
    static func rememberedReadsCheckAttributes(_ provider: SecretServiceProvider) -> Bool {
        provider == .kWallet
    }

    /// Whether the provider announces a collection's lock and unlock with a collection signal
    /// before it answers the next call, which remembering the lock state relies on (see
    /// `LockStateMemory`). `dbus-monitor` shows `Service.CollectionChanged` on a lock through
    /// the Secret Service on all three, and on the locks KeePassXC (after inactivity) and
    /// KWallet (idle close) make by themselves: the coherence test checks the first,
    /// `ProviderTests.aKeyringThatLocksItselfWhenIdleReadsAsLocked` the others. GNOME Keyring
    /// has no idle lock of its own. Their sources send it on an unlock too (gnome-keyring's
    /// `gkd_secret_objects_emit_collection_locked` for both, KeePassXC's
    /// `Collection::onDatabaseLockChanged`, KWallet's `promptUnlockCollection`), so the
    /// `PropertiesChanged` they add is not listened to.
    static func signalsAnnounceLockChanges(_ provider: SecretServiceProvider) -> Bool {
        provider == .gnomeKeyring || provider == .keePassXC || provider == .kWallet
    }

    /// Whether a collection signal was sent on an alias's path (`.../aliases/default`). KWallet
    /// and KeePassXC send each `ItemCreated`, `ItemDeleted` and `ItemChanged` twice, on the
    /// collection's path and on its alias's (`dbus-monitor`), and GNOME Keyring only on the
    /// collection's. The item's path in the signal is the same in both, so the alias's copy is
    /// dropped, whichever provider sends it.
    static func isAliasEcho(signalPath: String) -> Bool {
        signalPath.hasPrefix("/org/freedesktop/secrets/aliases/")
    }
}

extension ProviderQuirks {
    /// The names of the quirks that apply to `provider`, for a log message.
    static func names(for provider: SecretServiceProvider) -> [String] {
        let rules: [(String, (SecretServiceProvider) -> Bool)] = [
            ("writesNeedReadBack", writesNeedReadBack), ("writesInOneRoundTrip", writesInOneRoundTrip),
            ("mustCheckLockedBeforeSearching", mustCheckLockedBeforeSearching), ("createMayReplace", createMayReplace),
            ("createWaitsForItsPrompt", createWaitsForItsPrompt),
            ("overwritesBySettingTheSecret", overwritesBySettingTheSecret), ("changesAccessibilityInPlace", changesAccessibilityInPlace),
            ("signalsAnnounceEveryChange", signalsAnnounceEveryChange),
            ("rememberedReadsCheckAttributes", rememberedReadsCheckAttributes), ("signalsAnnounceLockChanges", signalsAnnounceLockChanges),
        ]
        return rules.filter { $0.1(provider) }.map(\.0)
    }
}
#endif
