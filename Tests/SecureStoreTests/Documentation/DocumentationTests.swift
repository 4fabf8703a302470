import Foundation
import Testing

/// The documents' references to tests stay true: every test that docs/, the README or the
/// DocC articles name exists, so a guarantee never cites a test that was renamed or removed.
/// (The changelog is history, and keeps the names of its day.)
@Suite("Documentation", TestSelection())
struct DocumentationTests {
    static let documents: [URL] = {
        let root = Subprocess.packageRoot
        let docs = root.appendingPathComponent("docs"), articles = root.appendingPathComponent("Sources/SecureStore/SecureStore.docc")
        return [root.appendingPathComponent("README.md")] + markdown(in: docs) + markdown(in: articles)
    }()

    static func markdown(in folder: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
    }

    /// Each Swift file under `folder`, with its text.
    static func swiftSources(under folder: String) -> [(path: String, text: String)] {
        let root = Subprocess.packageRoot.appendingPathComponent(folder)
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { $0.pathExtension == "swift" }.compactMap { url in
            (try? String(contentsOf: url, encoding: .utf8)).map { (url.path, $0) }
        }
    }

    /// `Suite.test` in backticks: a file that declares (or extends) the suite declares the test.
    @Test func everyTestTheDocumentsNameBySuiteExists() throws {
        let tests = Self.swiftSources(under: "Tests")
        var checked = 0
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for match in text.matches(of: /`(\w+Tests)\.(\w+)`/) {
                let (suite, test) = (String(match.output.1), String(match.output.2))
                let declared = tests.contains { Self.declares(suite, in: $0.text) && $0.text.contains("func \(test)(") }
                #expect(declared, "\(document.lastPathComponent) names \(suite).\(test), which no test file declares")
                checked += 1
            }
        }
        #expect(checked > 100, "only \(checked) references found: the pattern no longer matches the documents")
    }

    /// A long name in backticks that is not `Suite.test` (a test named after its suite's, or a
    /// function): something in the sources declares it.
    @Test func everyLongNameTheDocumentsCiteIsDeclared() throws {
        let sources = (Self.swiftSources(under: "Tests") + Self.swiftSources(under: "Sources")).map(\.text).joined(separator: "\n")
        var declared = Set<Substring>()
        for match in sources.matches(of: /(?:func|var|let|case)\s+(\w+)/) { declared.insert(match.output.1) }
        var checked = 0
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for match in text.matches(of: /`([a-z]\w{24,})`/) {
                let isDeclared = declared.contains(match.output.1)
                #expect(isDeclared, "\(document.lastPathComponent) cites \(match.output.1), which nothing declares")
                checked += 1
            }
        }
        #expect(checked > 50, "only \(checked) names found: the pattern no longer matches the documents")
    }

    static func declares(_ type: String, in text: String) -> Bool {
        ["struct ", "class ", "enum ", "extension "].contains { keyword in
            [" ", ":", "{"].contains { text.contains(keyword + type + $0) }
        }
    }
}
