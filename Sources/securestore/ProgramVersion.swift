#if canImport(Glibc)
import Glibc
#endif

/// The version of the program a process runs, as the package manager knows it: `doctor` names
/// the Secret Service's provider with it. The Secret Service API has no version, and running
/// the provider's program to ask would run whatever owns the bus name; this reads files only
/// (`/proc/PID/exe`, then dpkg's lists and status). `nil` where any step does not know.
enum ProgramVersion {
    static func of(processID: UInt32) -> String? {
        guard let program = executable(of: processID), let package = dpkgPackage(owning: program),
              let version = dpkgVersion(of: package) else { return nil }
        return "\(package) \(version)"
    }

    /// The target of `/proc/PID/exe`.
    static func executable(of processID: UInt32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/\(processID)/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static let dpkgInfo = "/var/lib/dpkg/info"

    /// The package whose file list (`/var/lib/dpkg/info/PACKAGE.list`) names `path`.
    static func dpkgPackage(owning path: String) -> String? {
        guard let folder = opendir(dpkgInfo) else { return nil }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".list"), let list = contents(of: "\(dpkgInfo)/\(name)") else { continue }
            if list.split(separator: "\n").contains(where: { $0 == path }) {
                return String(name.dropLast(".list".count).prefix { $0 != ":" })   // without its architecture
            }
        }
        return nil
    }

    /// The installed version of `package`, from dpkg's status file.
    static func dpkgVersion(of package: String) -> String? {
        guard let status = contents(of: "/var/lib/dpkg/status") else { return nil }
        for stanza in status.split(separator: "\n\n") {
            let fields = stanza.split(separator: "\n")
            guard fields.contains(where: { $0 == "Package: \(package)" }) else { continue }
            if let version = fields.first(where: { $0.hasPrefix("Version: ") }) { return String(version.dropFirst("Version: ".count)) }
        }
        return nil
    }

    /// A text file's contents, at most 64 MiB.
    static func contents(of path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < 64 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
