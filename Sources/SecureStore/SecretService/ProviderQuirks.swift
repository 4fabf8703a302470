#if canImport(CLibSecret)
import Glibc

/// The program that serves `org.freedesktop.secrets`, told from the name owner's process name.
/// The backend speaks the same protocol to all of them; `ProviderQuirks` says where it must not.
enum SecretServiceProvider: Sendable, Equatable {
    case gnomeKeyring
    case keePassXC
    case kWallet
    /// Another provider, or one the bus would not name: treated like GNOME Keyring.
    case other

    init(processName: String?) {
        switch processName {
        case "gnome-keyring-d": self = .gnomeKeyring   // comm is cut to 15 bytes
        case "keepassxc": self = .keePassXC
        case "kwalletd5", "kwalletd6", "ksecretd": self = .kWallet
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
        provider == .kWallet
    }

    /// KeePassXC (with `UnlockBeforeSearch`, its default) holds a search on a locked database
    /// until a person unlocks it, and answers `CreateItem` there with a prompt: a call without
    /// interaction would wait out its timeout. So on KeePassXC the collection's `Locked`
    /// property is read first, and a locked one is unlocked (or the call fails at once).
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

    /// Whether the provider announces a new secret set by `Item.SetSecret` (`ItemChanged`).
    /// GNOME Keyring 42 does not (`dbus-monitor` shows no signal), while it announces
    /// `CreateItem(replace: true)` over the same item; KeePassXC and KWallet announce both. So on
    /// GNOME Keyring an overwrite replaces through `CreateItem`, as libsecret's own store does,
    /// and `changes(options:)` in other processes hears it, at what libsecret's store costs
    /// (gnome-keyring looks through the collection for the item to replace; see
    /// docs/performance.md).
    static func announcesNewSecrets(_ provider: SecretServiceProvider) -> Bool {
        provider != .gnomeKeyring
    }

    /// Whether the provider announces every change to an item's existence and attributes
    /// (created, deleted, new attributes) with a signal before it answers the next call, which
    /// remembering item paths relies on (see `ItemPathMemory`; a new secret needs no signal
    /// there: a remembered path's read asks for the secret itself). Measured on GNOME Keyring
    /// only, so only there.
    static func signalsAnnounceEveryChange(_ provider: SecretServiceProvider) -> Bool {
        provider == .gnomeKeyring || provider == .keePassXC
    }

    /// Whether the provider announces a collection's lock and unlock with a collection signal
    /// before it answers the next call, which remembering the lock state relies on (see
    /// `LockStateMemory`). `dbus-monitor` shows `Service.CollectionChanged` on a lock through
    /// the Secret Service on all three (GNOME Keyring adds `PropertiesChanged`); the coherence
    /// test checks each.
    static func signalsAnnounceLockChanges(_ provider: SecretServiceProvider) -> Bool {
        provider != .other
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
#endif
