/// What a scenario or probe printed, read the one way every test reads it. Scenarios print
/// lines of three kinds:
/// - `name=value`: one value (`probe-exit=0`, `rss_growth_kib=812`);
/// - `name=STATUS MILLISECONDS`: a command's exit status and duration (`get=77 412`);
/// - `[label ]a=1 b=2 ...`: counts (`changes=808 checks=2024 stale=0`, `reads ok=400 wrong=0`);
/// and `== STAGE` headers that group the lines after them.
struct ScenarioOutput {
    let lines: [String]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    init(lines: [String]) {
        self.lines = lines
    }

    /// The rest of the first line that starts with `name=`.
    func value(_ name: String) -> String? {
        lines.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The last `name=STATUS MILLISECONDS` line's status and milliseconds.
    func command(_ name: String) -> (status: Int?, milliseconds: Int?)? {
        guard let line = lines.last(where: { $0.hasPrefix(name + "=") }) else { return nil }
        let parts = line.dropFirst(name.count + 1).split(separator: " ")
        return (parts.first.flatMap { Int($0) }, parts.count > 1 ? parts.last.flatMap { Int($0) } : nil)
    }

    /// The numeric `a=1 b=2` fields of the last line that starts with `prefix` (a label such
    /// as `reads `, or a first field such as `changes=`): `["a": 1, "b": 2]`.
    func counts(ofLineStartingWith prefix: String) -> [String: Int] {
        Self.counts(lines.last { $0.hasPrefix(prefix) } ?? "")
    }

    /// The numeric `a=1 b=2` fields of `line`; other words are left out.
    static func counts(_ line: some StringProtocol) -> [String: Int] {
        var counts: [String: Int] = [:]
        for field in line.split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let count = Int(parts[1]) { counts[String(parts[0])] = count }
        }
        return counts
    }

    /// The lines under each `== STAGE` header; those before the first under `start`.
    var stages: [String: [String]] {
        var stages: [String: [String]] = [:]
        var stage = "start"
        for line in lines where !line.isEmpty {
            if line.hasPrefix("== ") { stage = String(line.dropFirst(3)) } else { stages[stage, default: []].append(line) }
        }
        return stages
    }

    /// What a stage of a watcher's events must report, and what else it may.
    struct StageRule {
        var stage: String
        var required: Set<String>
        var allowed: Set<String> = []
    }

    /// The stages whose events break their rule, each with what it reported; also when the
    /// watcher started with anything but `watching`, or missed an event (`never:`).
    func eventStagesBreaking(_ rules: [StageRule]) -> [String] {
        let stages = stages
        var broken = stages["start"] == ["watching"] ? [] : ["start: \(stages["start"] ?? [])"]
        broken += lines.filter { $0.hasPrefix("never:") }
        for rule in rules {
            let seen = Set(stages[rule.stage] ?? [])
            if !rule.required.isSubset(of: seen) || !seen.isSubset(of: rule.required.union(rule.allowed)) {
                broken.append("\(rule.stage): \(seen.sorted())")
            }
        }
        return broken
    }
}
