import Foundation

/// Where the test run leaves its screenshots of the providers' dialogs (`.build/screenshots`).
enum Screenshots {
    static let folder = Subprocess.packageRoot.appendingPathComponent(".build/screenshots")

    /// The path of the screenshot named `name`, its folder made.
    static func path(_ name: String) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }
}
