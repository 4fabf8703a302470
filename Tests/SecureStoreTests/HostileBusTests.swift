import Foundation
import Testing
@testable import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// Only the real service speaks: peers on the session bus that forge signals or replies, and a
/// service that offers no encryption or sends secrets no key decrypts, never yield a wrong
/// answer, a lost event or a secret in clear. Driven by the hostile test double,
/// Tests/Fakes/hostile-peer.py.
@Suite("Hostile bus", TestSelection(), .tags(.keyring))
struct HostileBusTests {

    /// Runs the command with `arguments` on a bus where the double, started with `double`, owns
    /// the Secret Service's name.
    static func againstFake(_ double: [String], _ arguments: [String], input: String = "",
                            environment: [String: String?] = [:]) async throws -> Subprocess.Outcome {
        try await Subprocess.run([Subprocess.withFakeService, "serve"] + double + ["--", Subprocess.securestore] + arguments,
                                 environment: environment, input: input)
    }

    @Test func aServiceOfferingOnlyAPlainSessionIsRefusedBeforeAnySecretIsSent() async throws {
        let set = try await Self.againstFake(["--plain-only"], ["set", "token", "--app", "plain-test"], input: "s3cret-value")
        #expect(set.status == 2, "\(set.standardError)")
        #expect(set.standardError.contains("ERR_KEY_CHAIN") && set.standardError.contains("\"plain\""), "\(set.standardError)")
        #expect(!set.standardError.contains("s3cret-value"))
        let get = try await Self.againstFake(["--plain-only"], ["get", "token", "--app", "plain-test"])
        #expect(get.status == 2 && get.standardOutput.isEmpty, "\(get.standardError)")
        #expect(get.standardError.contains("ERR_KEY_CHAIN"))
    }

    @Test func aReplyForgedByAnotherPeerIsDroppedAndTheServicesOwnCounts() async throws {
        // The double answers the search after a second with "nothing", and meanwhile sends from
        // another connection a reply with the same serial that names an item.
        let outcome = try await Self.againstFake(["--forge-replies"], ["exists", "token", "--app", "forged-reply-test"])
        #expect(outcome.status == 1, "the forged reply said the item exists: \(outcome.standardError)")
    }

    @Test func aSecretThatDoesNotDecryptIsATypedErrorNeverAValue() async throws {
        let outcome = try await Self.againstFake(["--garble-secrets"], ["get", "token", "--app", "garbled-test"])
        #expect(outcome.status == 2, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_KEY_CHAIN") && outcome.standardOutput.isEmpty)
    }

    /// A service that never answers a call: every call ends with `ERR_TIMEOUT` at the store's
    /// timeout, whichever call it is, and nothing is changed.
    @Test(arguments: ["GetSecrets", "SearchItems", "CreateItem"])
    func aReplyThatNeverComesIsATimeoutNotAHang(method: String) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--drop-replies", method, "--"]
                                           + Subprocess.scenario("Hostile/dropped-reply", ["\(TimeScale.seconds(2))"]),
                                           environment: Subprocess.scenarioEnvironment([:]))
        let expected: [String: (set: String, get: String)] = [
            "GetSecrets": ("set=0", "get=75"), "SearchItems": ("set=75", "get=75"), "CreateItem": ("set=75", "get=1"),
        ]
        #expect(run.standardOutput.contains(expected[method]!.set) && run.standardOutput.contains(expected[method]!.get),
                "\(run.standardOutput) \(run.standardError)")
        #expect(run.standardError.contains("ERR_TIMEOUT"))
    }

    /// KWallet (before 6.25) can store other bytes than it was sent while reporting success; the
    /// double does so for the writes `garbled` names. A write no attempt verifies puts the
    /// previous value back (verified itself), or removes the item: never garbage to read.
    @Test(arguments: [
        ("2:3", "the previous value was put back", "old"),
        ("2:9", "its previous value could not be put back, so the item was removed", nil),
        ("1:9", "the item it made was removed", nil),
    ] as [(String, String, String?)])
    func aWriteNoAttemptVerifiesLeavesThePreviousValueOrNoItem(garbled: String, outcome: String, left: String?) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--garble-writes", garbled, "--"]
                                           + Subprocess.scenario("Hostile/undone-write"), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardError.contains("set=2") && run.standardError.contains(outcome), "\(run.standardError)")
        #expect(run.standardOutput == left.map { $0 + "\n" } ?? "", "\(run.standardOutput.debugDescription)")
        #expect(run.status == (left == nil ? 1 : 0))
    }

    /// KWallet refuses a secret its session cannot decrypt only after `CreateItem` has made the
    /// item, which then reads as an empty value. The write removes it before trying again, so a
    /// refused write leaves the key as it was: no item, or the previous value under the previous
    /// accessibility.
    @Test(arguments: [
        ("1:9", [], nil),
        ("2:9", ["--accessible", "AFTER_FIRST_UNLOCK"], "old"),
    ] as [(String, [String], String?)])
    func aWriteKWalletRefusesLeavesTheKeyAsItWas(refused: String, setOptions: [String], left: String?) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--refuse-writes", refused, "--"]
                                           + Subprocess.scenario("Hostile/refused-write", setOptions),
                                           environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardError.contains("set=2") && run.standardError.contains("ERR_KEY_CHAIN"), "\(run.standardError)")
        #expect(run.standardError.contains("left=k") == (left != nil), "\(run.standardError)")
        #expect(run.standardOutput == left.map { $0 + "\n" } ?? "", "\(run.standardOutput.debugDescription)")
        #expect(run.status == (left == nil ? 1 : 0))
    }

    /// A process whose transfer session derived another key than KWallet's (the double's second
    /// session) finds out by reading a secret before its first write, and writes on a new
    /// session: the write is never refused or garbled, so no other process can read an item
    /// with no secret or bytes nobody wrote.
    @Test func aSessionWithTheWrongKeyIsFoundBeforeItsFirstWrite() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--bad-sessions", "2:1", "--"]
                                           + Subprocess.scenario("Hostile/bad-session"), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardError.contains("set=0") && run.standardError.contains("refused=0"), "\(run.standardError)")
        #expect(run.standardOutput == "second\n")
    }

    /// On a session with the wrong key, one garbled secret in 256 decrypts to valid padding:
    /// random bytes, a wrong value. Until a session is verified, KWallet's secrets are read twice
    /// (both readings at once); two different results replace the connection, and the value is
    /// read on a sound session. (The double makes every reading of its second session decrypt.)
    @Test func aSecretReadWithTheWrongKeyIsNeverReturnedEvenWhenItDecrypts() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--bad-sessions", "2:1",
                                            "--bad-sessions-decrypt", "--"] + Subprocess.scenario("Hostile/bad-session-read"),
                                           environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput == "66697273740a status=0\n", "\(run.standardError)")   // "first\n"
    }

    /// Between KWallet's store of a write and the write's read-back the item may hold bytes
    /// nobody wrote (the double garbles the overwrite and answers reads of it late). Reads of
    /// the key in the same process wait for the write: each returns the old value or the new.
    @Test func aReadDuringAnUnverifiedWriteWaitsForIt() async throws {
        let hold = Int(TimeScale.seconds(0.5) * 1000)
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5", "--garble-writes", "2:1",
                                            "--hold-garbled", "\(hold)", "--", Subprocess.probe, "read-during-write", "--app", "read-test"])
        #expect(run.standardOutput.contains("write=ok") && run.standardOutput.contains("foreign=0"),
                "\(run.standardOutput)\(run.standardError)")
    }

    /// libsecret keeps a sandboxed app's items in its own file only when the Secret portal is
    /// version 1; with another it silently uses the Secret Service, here the double's.
    @Test func aSecretPortalOfAnotherVersionIsRefusedNotTakenForTheSandboxKeyring() async throws {
        let outcome = try await Self.againstFake(["--portal-version", "2"], ["get", "token", "--app", "portal-test"],
                                                 environment: ["SNAP_NAME": "portal-test"])
        #expect(outcome.status == 69, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("version 2"), "\(outcome.standardError)")
    }

    /// libsecret's test variables would give the sandbox keyring a key, or a file, of someone
    /// else's choosing (`flatpak override --env` can set them).
    @Test(arguments: ["SECRET_FILE_TEST_PASSWORD", "SECRET_FILE_TEST_PATH"])
    func libsecretsTestVariablesAreRefusedInTheSandbox(variable: String) async throws {
        let outcome = try await Self.againstFake(["--portal-version", "1"], ["get", "token", "--app", "variable-test"],
                                                 environment: ["SNAP_NAME": "variable-test", variable: "chosen-by-someone-else"])
        #expect(outcome.status == 2, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("ERR_KEY_CHAIN") && outcome.standardError.contains(variable), "\(outcome.standardError)")
    }

    /// Another process sends our connection unicast signals (and broadcasts them): the service
    /// lost its owner, a watched item was deleted, a new one created. None is heard; a real
    /// deletion afterwards is.
    @Test func forgedSignalsAreNotHeardAndRealOnesStillAre() async throws {
        try await withFixture(.secretService) { fixture async throws in
            let store = fixture.store()
            let stream = try await store.changes()
            let collected = ChangesContractTests.Collected()
            let consumer = Task { for await change in stream { collected.changes.withLock { $0.append(change) } } }
            defer { consumer.cancel() }
            try await store.setItem("k", "value")
            _ = await collected.wait { $0.contains(.added(key: "k")) }
            #expect(utf8Bytes(try await store.getItem("k")) == Array("value".utf8))

            let forged = try await Subprocess.run([
                "/usr/bin/python3", Subprocess.hostilePeer, "forge", "--pid", "\(getpid())", "--app", "\(fixture.applicationPrefix).app", "--key", "k",
            ])
            #expect(forged.status == 0 && forged.standardOutput.hasPrefix("forged "), "\(forged.standardError)")
            #expect(forged.standardOutput != "forged 0\n", "the forger found no connection of this process")

            // Changes come in order: once the marker is heard, the forgeries were handled.
            try await store.setItem("marker", "x")
            var seen = await collected.wait { $0.contains(.added(key: "marker")) }
            #expect(seen == [.added(key: "k"), .added(key: "marker")])
            #expect(utf8Bytes(try await store.getItem("k")) == Array("value".utf8))

            try await store.deleteItem("k")
            seen = await collected.wait { $0.contains(.removed(key: "k")) }
            #expect(seen == [.added(key: "k"), .added(key: "marker"), .removed(key: "k")])
        }
    }
}
