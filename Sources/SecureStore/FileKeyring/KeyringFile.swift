#if canImport(CLibSecret)
import CLibSecret
import Glibc

/// One keyring file on disk, shared by every store of this process that names its path, and
/// safe to share with other processes that follow the same protocol:
/// - a write takes an exclusive `flock` on `PATH.lock`, re-reads the file if it changed,
///   applies its change, writes `PATH.tmp-XXXXXX` (0600) in the same folder, fsyncs it,
///   renames it over the keyring, fsyncs the folder, and lets go of the lock; a process killed
///   anywhere leaves the old file or the new one, whole;
/// - a read takes no lock: it compares the file's identity (device, inode, size, mtime and
///   ctime to the nanosecond) with the one it last read, and re-reads only when it changed.
///   Every write renames a new inode into place, so a change is never missed.
/// Blocking: call it from ``BlockingWorkers``, never from Swift's cooperative pool.
@_spi(SecureStoreInternal)
public final class KeyringFile: Sendable {
    let path: String
    private let cache = Locked<Snapshot?>(nil)

    /// The file at `path`, one object per path in this process.
    static func at(_ path: String) -> KeyringFile {
        files.withLock { files in
            if let file = files[path] { return file }
            let file = KeyringFile(path: path)
            files[path] = file
            return file
        }
    }
    private static let files = Locked<[String: KeyringFile]>([:])

    private init(path: String) { self.path = path }

    /// The file's contents now: the cached ones if the file did not change, `nil` if there is
    /// no file.
    func read() throws(KeyringError) -> Snapshot? {
        var status = stat()
        guard fstatat(AT_FDCWD, path, &status, 0) == 0 else {
            guard errno == ENOENT else { throw .lastSystemError("stat") }
            cache.withLock { $0 = nil }
            return nil
        }
        let identity = FileIdentity(status)
        if let cached = cache.withLock({ $0 }), cached.identity == identity { return cached }
        let snapshot = try load()
        cache.withLock { $0 = snapshot }
        return snapshot
    }

    /// The cached contents if the file is still the one they were read from; a `stat` only.
    func snapshotIfUnchanged() -> Snapshot? {
        var status = stat()
        guard fstatat(AT_FDCWD, path, &status, 0) == 0, let cached = cache.withLock({ $0 }),
              cached.identity == FileIdentity(status) else { return nil }
        return cached
    }

    /// Applies `change` to the latest contents under the file's lock, and writes the result if
    /// `change` returns `true`. `newContents` makes the contents of a keyring that does not
    /// exist yet. Waits for the lock while `canWait()`.
    @discardableResult
    func update<R>(canWait: () -> Bool, newContents: () throws(KeyringError) -> KeyringContents,
                   _ change: (inout KeyringContents, Snapshot?) throws(KeyringError) -> (changed: Bool, result: R)) throws(KeyringError) -> R {
        try makeFolder()
        let lock = try FileLock(path: path + ".lock", canWait: canWait)
        defer { lock.release() }
        let current = try read()
        var contents: KeyringContents
        if let current { contents = current.contents } else { contents = try newContents() }
        let (changed, result) = try change(&contents, current)
        if changed { try write(contents) }
        return result
    }

    // MARK: - Reading

    private func load() throws(KeyringError) -> Snapshot {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .lastSystemError("open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .lastSystemError("fstat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .corrupt("is not a regular file") }
        guard status.st_size <= KeyringFileFormat.maximumFileSize else { throw .corrupt("is over \(KeyringFileFormat.maximumFileSize >> 20) MiB") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + done, $0.count - done) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw .lastSystemError("read") }
            guard count > 0 else { throw .corrupt("shrank while it was read") }
            done += count
        }
        return Snapshot(identity: FileIdentity(status), contents: try KeyringFileFormat.decode(bytes), mode: status.st_mode & 0o7777)
    }

    // MARK: - Writing

    /// Writes `contents` to a new file and renames it over the keyring. Called with the lock.
    private func write(_ contents: KeyringContents) throws(KeyringError) {
        let bytes = KeyringFileFormat.encode(contents)
        let (folder, name) = Self.split(path)
        removeLeftovers(folder: folder, name: name)
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { g_mkstemp_full($0.baseAddress!, O_RDWR | O_CLOEXEC, 0o600) }
        guard descriptor >= 0 else { throw .lastSystemError("mkstemp") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            var done = 0
            while done < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw KeyringError.lastSystemError("write") }
                done += count
            }
            Self.reached(.temporaryWritten)
            guard fsync(descriptor) == 0 else { throw KeyringError.lastSystemError("fsync") }
        }
        Self.reached(.temporarySynced)
        guard rename(temporary, path) == 0 else { throw .lastSystemError("rename") }
        renamed = true
        Self.reached(.renamed)
        // The rename is durable once the folder is: until then a crash may bring back the old
        // file, never a broken one.
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
        Self.reached(.folderSynced)
        // libsecret keeps the previous generation, deleted secrets included, as `PATH~`.
        unlink(path + "~")
        var status = stat()
        if fstatat(AT_FDCWD, path, &status, 0) == 0 {
            cache.withLock { $0 = Snapshot(identity: FileIdentity(status), contents: contents, mode: status.st_mode & 0o7777) }
        }
    }

    /// The steps of a write, for tests that kill a writer at each (`writeStepHook`).
    @_spi(SecureStoreInternal)
    public enum WriteStep: String, CaseIterable, Sendable {
        case temporaryWritten, temporarySynced, renamed, folderSynced
    }

    /// Calls `hook` at each step of every later write in this process; tests only.
    @_spi(SecureStoreInternal)
    public static func onWriteStep(_ hook: @escaping @Sendable (WriteStep) -> Void) {
        writeStepHook.withLock { $0 = hook }
    }
    private static let writeStepHook = Locked<(@Sendable (WriteStep) -> Void)?>(nil)

    private static func reached(_ step: WriteStep) {
        writeStepHook.withLock { $0 }?(step)
    }

    /// Temporary files of writers that were killed: only a writer holding the lock makes one,
    /// and the caller holds it now.
    private func removeLeftovers(folder: String, name: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = name + ".tmp-"
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if entryName.hasPrefix(prefix) { unlink(folder + "/" + entryName) }
        }
    }

    /// Creates the keyring's folder and its parents (0700) when missing.
    func makeFolder() throws(KeyringError) {
        var folder = ""
        for component in Self.split(path).folder.split(separator: "/", omittingEmptySubsequences: true) {
            folder += "/" + component
            if mkdir(folder, 0o700) != 0, errno != EEXIST { throw .lastSystemError("mkdir") }
        }
    }

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        return (slash == path.startIndex ? "/" : String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// What the keyring file held when it was read.
    final class Snapshot: Sendable {
        let identity: FileIdentity
        let contents: KeyringContents
        let mode: mode_t
        /// The items' positions by their `key` attribute's HMAC.
        let byKey: [[UInt8]: [Int]]

        init(identity: FileIdentity, contents: KeyringContents, mode: mode_t) {
            self.identity = identity
            self.contents = contents
            self.mode = mode
            var byKey: [[UInt8]: [Int]] = [:]
            for (index, item) in contents.items.enumerated() {
                if let mac = item.mac(of: SecretServiceBackend.Attribute.key) { byKey[mac, default: []].append(index) }
            }
            self.byKey = byKey
        }
    }
}

/// What tells one generation of the file from another.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: timespec
    var changed: timespec

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = status.st_mtim
        changed = status.st_ctim
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
            && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }
}
#endif
