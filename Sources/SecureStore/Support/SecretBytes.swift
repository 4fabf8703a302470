/// A secret on its way from a backend to the caller. A reference, so that it is one buffer
/// however many results, replies and continuations still hold it when the caller gets its
/// value: ``take()`` hands the caller a fresh copy and zeroes this one, and whatever copy of
/// the reference lingers on another thread holds zeros. (An array passed on by value shares its
/// buffer instead, and a caller zeroing theirs while another holder remained would zero a copy
/// and leave the original to be freed intact.)
final class SecretBytes: @unchecked Sendable {
    // Written only by `take`, `zero` and `deinit`, by the one task that took the secret.
    private var storage: [UInt8]

    init(_ bytes: [UInt8]) { storage = bytes }

    /// Compares without copying.
    func equals(_ other: [UInt8]) -> Bool { storage == other }

    func equals(_ other: SecretBytes) -> Bool { other.equals(storage) }

    /// The caller's own copy; this one is zeroed.
    func take() -> [UInt8] {
        let copy = [UInt8](unsafeUninitializedCapacity: storage.count) { buffer, count in
            count = buffer.initialize(from: storage).1
        }
        wipe(&storage)
        return copy
    }

    func zero() { wipe(&storage) }

    deinit { wipe(&storage) }
}
