/// What ``SecureStore/changes(options:)`` reports: a change to one of the watched items, made by
/// this process or any other, or to the keyring they live in. Changes name keys, never values.
public enum SecureStoreChange: Sendable, Hashable {
    /// A key that had no item has one now.
    case added(key: String)
    /// The key's item got a new value or accessibility, or was replaced by another item: a hint
    /// to read it again. Writes close together may be reported as one, and one write more than
    /// once where the keyring announces it several times.
    case changed(key: String)
    /// The key has no item any more: deleted, or moved out of the watched service by an edit
    /// of its attributes.
    case removed(key: String)
    /// The keyring was locked: reads now need an unlock (or fail without user interaction).
    case locked
    /// The keyring was unlocked.
    case unlocked
    /// The keyring service went away (its daemon ended). Nothing is reported until it is back.
    case serviceUnavailable
    /// The keyring service is back. Keys added or removed meanwhile are reported right after.
    case serviceAvailable
}
