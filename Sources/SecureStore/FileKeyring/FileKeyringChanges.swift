#if canImport(CLibSecret)
import CLibSecret
import Dispatch
import Glibc

extension FileKeyringBackend {
    /// Every process's writes to the items `options` select, heard through inotify on the
    /// keyring's folder (a write renames a new file into place: that is the event), each
    /// reported within milliseconds of its rename. Writes that land before the stream has read
    /// the file after the previous one are reported by their net effect (an item added and
    /// removed in between goes unreported); an overwrite is always `.changed`, never a removal.
    /// The keyring file's folder is created (0700) if missing, so that it can be watched.
    public func changes(options: SecureStoreOptions) async throws -> AsyncStream<SecureStoreChange> {
        let watch = try await perform { _ in try KeyringWatch(backend: self, options: options) }
        return watch.start()
    }
}

/// One `changes(options:)` stream of a file keyring: an inotify watch on the folder, a read of
/// the file after each event that names it, and the difference from the previous read.
final class KeyringWatch: @unchecked Sendable {
    /// Open watches in this process, for tests that check a cancelled stream lets go of its own.
    static var count: Int { open.withLock { $0 } }
    private static let open = Locked(0)

    private let backend: FileKeyringBackend
    private let options: SecureStoreOptions
    private let descriptor: Int32
    private let fileName: String
    private let queue = DispatchQueue(label: "securestore.file-keyring-watch")
    // Touched only on `queue` (and in `init`, before the queue runs).
    private var known = ItemsSeen()
    private var namesBySeal: [[UInt8]: ExactName] = [:]
    private var source: (any DispatchSourceRead)?

    /// Watches the folder, then reads the items as they are now: no write after this returns
    /// goes unheard. Blocking.
    init(backend: FileKeyringBackend, options: SecureStoreOptions) throws {
        self.backend = backend
        self.options = options
        do {
            try backend.checkPassword()
            try backend.file.makeFolder()
        } catch {
            throw error.secureStoreError(path: backend.path)
        }
        let (folder, name) = KeyringFile.split(backend.path)
        fileName = name
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw KeyringError.lastSystemError("inotify_init1").secureStoreError(path: backend.path) }
        let events = UInt32(IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE)
        guard inotify_add_watch(descriptor, folder, events) >= 0 else {
            let error = KeyringError.lastSystemError("inotify_add_watch")
            close(descriptor)
            throw error.secureStoreError(path: backend.path)
        }
        do {
            known = try itemsNow()
        } catch {
            close(descriptor)
            throw error
        }
        Self.open.withLock { $0 += 1 }
    }

    func start() -> AsyncStream<SecureStoreChange> {
        let (stream, output) = AsyncStream.makeStream(of: SecureStoreChange.self, bufferingPolicy: .bufferingOldest(ChangeDelivery.capacity))
        var delivery = ChangeDelivery(output)
        delivery.startFrom(keys: Set(known.seals.keys.map(\.string)), isLocked: false)
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [self] in
            guard drainEvents() else { return }
            let now: ItemsSeen
            do { now = try itemsNow() } catch { return }   // a file mid-damage: the next event tells
            delivery.catchUp(keys: Set(now.seals.keys.map(\.string)), isLocked: false, serviceIsUp: true)
            for change in Self.difference(from: known, to: now) { delivery.report(change) }
            known = now
        }
        source.setCancelHandler { [descriptor] in
            close(descriptor)
            Self.open.withLock { $0 -= 1 }
        }
        queue.sync { self.source = source }
        output.onTermination = { [self] _ in queue.async { self.source?.cancel(); self.source = nil } }
        source.resume()
        return stream
    }

    /// Reads every pending event; whether one concerned the keyring file (or events were lost).
    private func drainEvents() -> Bool {
        var concerned = false
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return concerned }
            var offset = 0
            buffer.withUnsafeBytes { bytes in
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = bytes[nameStart..<min(count, nameStart + Int(event.len))].prefix { $0 != 0 }
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 || String(decoding: nameBytes, as: UTF8.self) == fileName {
                        concerned = true
                    }
                    offset = nameStart + Int(event.len)
                }
            }
        }
    }

    /// The selected items as one read saw them: each key with its items' MACs, which every
    /// write changes, and the keys in the order of their latest item in the file (a write
    /// appends its item, so this is the order of the writes).
    struct ItemsSeen {
        var seals: [ExactName: [UInt8]] = [:]
        var order: [ExactName] = []
    }

    private func itemsNow() throws -> ItemsSeen {
        let attributes = ItemSchema.attributes(applicationID: backend.applicationID, key: nil, options: options, isSynchronizable: nil)
        return try backend.withContents { keyring throws(KeyringError) -> ItemsSeen in
            var items = ItemsSeen()
            var names: [[UInt8]: ExactName] = [:]
            var latest: [ExactName: Int] = [:]
            for position in try keyring.positions(matching: attributes) {
                let item = keyring.contents.items[position]
                let seal = Array(item.blob.suffix(KeyringCrypto.macSize))
                var name = namesBySeal[seal]
                if name == nil, var opened = try? keyring.openIfVerified(item) {
                    wipe(&opened.secret)
                    name = opened.attributes[SecretServiceBackend.Attribute.key].flatMap { Validation.isValidKey($0) ? ExactName($0) : nil }
                }
                guard let name else { continue }
                names[seal] = name
                items.seals[name, default: []] += seal
                latest[name] = position
            }
            items.order = latest.sorted { $0.value < $1.value }.map(\.key)
            namesBySeal = names
            return items
        } ifMissing: { ItemsSeen() }
    }

    /// What happened between two reads: removals first, then additions and overwrites in
    /// the order they were written.
    static func difference(from old: ItemsSeen, to new: ItemsSeen) -> [SecureStoreChange] {
        var changes = old.order.filter { new.seals[$0] == nil }.map { SecureStoreChange.removed(key: $0.string) }
        for name in new.order {
            if let previous = old.seals[name] {
                if previous != new.seals[name] { changes.append(.changed(key: name.string)) }
            } else {
                changes.append(.added(key: name.string))
            }
        }
        return changes
    }
}
#endif
