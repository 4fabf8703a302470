import Testing
@testable import securestore

/// The command line's `--`: keys may start with `-` (Expo's keys are `[A-Za-z0-9._-]+`), and
/// `list` prints such keys, so a script must be able to pass any of them back as a KEY.
@Suite("Command arguments", TestSelection())
struct ArgumentsTests {
    @Test(arguments: [
        (["get", "--", "--help"], "--help"), (["get", "--", "-h"], "-h"), (["set", "--", "--"], "--"),
        (["delete", "--app", "a", "--", "--json"], "--json"), (["exists", "-token"], "-token"), (["get", "-"], "-"),
    ])
    func aKeyAfterTheEndOfOptionsIsTakenAsItIs(arguments: [String], key: String) throws {
        let parsed = try #require(try Arguments.parse(arguments))
        #expect(parsed.key == key)
        #expect(!parsed.json)
    }

    @Test func optionsAfterTheEndOfOptionsAreNotOptions() {
        #expect(throws: UsageError.self) { try Arguments.parse(["get", "--", "k", "--json"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["get", "--"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["list", "--", "k"]) }
    }

    @Test func withoutTheEndOfOptionsADashedWordIsAnOptionOrHelp() throws {
        #expect(try Arguments.parse(["get", "-h"]) == nil)
        #expect(try Arguments.parse(["get", "--help"]) == nil)
        #expect(throws: UsageError.self) { try Arguments.parse(["get", "--token"]) }
        #expect(try Arguments.parse(["get", "k", "--json"])?.json == true)
    }
}
