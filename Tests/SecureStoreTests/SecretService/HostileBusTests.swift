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

    /// KeePassXC may have a person confirm a delete through the prompt `Item.Delete` answers with
    /// (the double as keepassxc, `--delete-prompts`); older KeePassXC completes that prompt as not
    /// dismissed even when the person said no ("no"; "dismiss" is the specification's way and
    /// KeePassXC 2.7.4's, whose real dialog `KeePassXCDialogTests` answers). A delete that
    /// is not confirmed fails with `ERR_AUTHENTICATION_CANCELED` and the item stays, whether
    /// libsecret ran the prompt (the command) or the process heard its `Completed` itself (a
    /// long-lived reader); a confirmed one deletes. (With "no", the reader trusted the prompt's
    /// "not dismissed" and reported `b deleted`: checked.)
    @Test(arguments: [
        ("no", "command=78", "b !ERR_AUTHENTICATION_CANCELED", "kept"), ("dismiss", "command=78", "b !ERR_AUTHENTICATION_CANCELED", "kept"),
        ("yes", "command=0", "b deleted", "none"),
    ])
    func aDeleteThatIsNotConfirmedFailsAndKeepsTheItem(answer: String, command: String, reader: String, left: String) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--delete-prompts", answer, "--"]
                                           + Subprocess.scenario("Hostile/confirmed-delete"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == [command, reader, "a=\(left)", "b=\(left)"], "\(run.standardOutput) \(run.standardError)")
    }

    /// A delete whose prompt the process hears complete counts as done without looking the item
    /// up when the service announced the item deleted before completing the prompt (KeePassXC
    /// does): no `Properties.Get` on the item after its `Delete`. Only the service's own
    /// `ItemDeleted` counts: announced by another connection (the double's `--forge-deletes`,
    /// broadcast and to the reader) before a refusal completes as not dismissed, as older
    /// KeePassXC completes it, the item is looked up and the delete fails. (With any sender's
    /// signal taken, the reader said `b deleted` and the item stayed: checked.)
    @Test(arguments: [
        (["--delete-prompts", "yes"], ["b deleted", "lookups=0", "b=none"]),
        (["--delete-prompts", "no", "--forge-deletes"], ["b !ERR_AUTHENTICATION_CANCELED", "lookups=1", "b=kept"]),
    ])
    func aDeleteHeardFromTheServiceNeedsNoLookupAndAForgedOneCountsForNothing(double: [String], expected: [String]) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc"] + double + ["--"]
                                           + Subprocess.scenario("Hostile/heard-delete"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == expected, "\(run.standardOutput) \(run.standardError)")
    }

    /// On KeePassXC an overwrite with a new accessibility keeps its item and sets its attributes,
    /// so no delete asks a person (the double as keepassxc refusing every delete, and answering
    /// `CreateItem` with a prompt as KeePassXC does). Made as a new item, the old one's delete
    /// was refused: the write failed with 78 and left two items (checked).
    @Test func anOverwriteWithANewAccessibilityAsksNoDeleteOnKeePassXC() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--prompts", "soon", "--delete-prompts", "no", "--"]
                                           + Subprocess.scenario("Hostile/accessibility-change"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == ["set=0", "a=new", "items=1 accessible=AFTER_FIRST_UNLOCK"], "\(run.standardOutput) \(run.standardError)")
    }

    /// That overwrite takes two calls, `Properties.Set` of the item's attributes and
    /// `SetSecret`; where the first is refused (as by a database locked meanwhile), the write
    /// fails and the key keeps its old value and accessibility. (With the secret set first, the
    /// failed write left `a=new`: checked.)
    @Test func anAccessibilityChangeThatFailsHalfwayLeavesTheOldValue() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--prompts", "soon", "--delete-prompts", "no",
                                            "--refuse-attributes", "--"]
                                           + Subprocess.scenario("Hostile/accessibility-change"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == ["set=2", "a=old", "items=1 accessible=WHEN_UNLOCKED"], "\(run.standardOutput) \(run.standardError)")
    }

    /// Two items of one key made in the same second of the service's clock (the double's
    /// `--frozen-clock`): which holds the key's value cannot be told, so the command and a
    /// long-lived process both fail with `ERR_KEY_CHAIN`, saying to write the key again, rather
    /// than guess; the next write leaves one item with its value. (With the tie taken for the
    /// newest item, both read a value: checked.)
    @Test func twoItemsOfAKeyFromTheSameSecondAreNeverGuessedBetween() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--frozen-clock", "--"]
                                           + Subprocess.scenario("Hostile/same-second-items"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == ["get=2", "ERR_KEY_CHAIN", "says: write the key again", "token !ERR_KEY_CHAIN", "set=0", "token newest", "items=1"],
                "\(run.standardOutput) \(run.standardError)")
    }

    /// A process's writes wait at the service in bounded numbers, whichever path they take: 800
    /// at once on the double as keepassxc, which answers each `CreateItem` with a prompt (as
    /// KeePassXC does), hold at most 12 there (`NonBlockingWriteSlots.limit`, 4, and the 8
    /// worker threads of the full path), so an `isAvailable` meanwhile is not queued behind
    /// hundreds of them. (KeePassXC's write without the bound: 421 at once, and `isAvailable`
    /// said "unavailable": checked.)
    @Test func manyWritesAtOnceWaitAtTheServiceInBoundedNumbers() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--prompts", "soon", "--"]
                                           + Subprocess.scenario("Hostile/queued-writes"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("available=true") }, "\(run.standardOutput) \(run.standardError)")
        let pending = lines.first { $0.hasPrefix("pending-max=") }.flatMap { Int($0.dropFirst("pending-max=".count)) }
        #expect(pending.map { $0 <= 12 } == true, "\(run.standardOutput)")
    }

    /// A read-back that never comes says nothing of what was stored: the write fails with
    /// `ERR_TIMEOUT` and the item is left alone (it holds the new value here), never "undone"
    /// into a removal. After writes that read back wrong, a put-back whose own read-back times
    /// out removes nothing either: the key keeps the previous value.
    @Test(arguments: [
        (["--drop-read-backs", "2:2"], "set=75", "ERR_TIMEOUT", "new"),
        (["--garble-writes", "2:3", "--drop-read-backs", "5:1"], "set=2", "putting the previous value back timed out", "old"),
    ] as [([String], String, String, String)])
    func aReadBackThatTimesOutNeverRemovesTheItem(double: [String], status: String, message: String, left: String) async throws {
        // Long enough that only the dropped read-back times out, on a busy machine too.
        let timeout = String(Int(TimeScale.seconds(5)))
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "kwalletd5"] + double + ["--"]
                                           + Subprocess.scenario("Hostile/unconfirmed-write", [timeout]), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardError.contains(status) && run.standardError.contains(message), "\(run.standardError)")
        #expect(run.standardOutput == left + "\n", "\(run.standardOutput.debugDescription) \(run.standardError)")
    }

    /// A read ends: items that are found but can never be read (another program replacing the
    /// item at every read) are an error, never "not found"; a keyring that stays locked after
    /// its unlock is unlocked once, then an error, never a loop.
    @Test(arguments: [("--vanishing-secrets", "replaced each time it was read"), ("--stays-locked", "still locked after it was unlocked")])
    func aReadThatCannotFinishIsAnErrorNeitherAMissNorALoop(double: String, message: String) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", double, "--"] + Subprocess.scenario("Hostile/endless-read"),
                                           environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput == "status=2\n", "\(run.standardError)")
        #expect(run.standardError.contains("ERR_KEY_CHAIN") && run.standardError.contains(message), "\(run.standardError)")
    }

    /// On KeePassXC (here the double, named keepassxc) the search of a read or a delete goes to
    /// each collection, sent together with the lock check, and the service's `Collections` read
    /// after them must still list what was searched. A database opened meanwhile (the double's
    /// second collection, which holds every item from then on) makes the search go again, to
    /// the whole service: no read misses the item, no delete leaves it. (An overwrite searches
    /// the whole service with blocking calls; it is checked here not to make a second item.)
    /// On KeePassXC, a new key's `CreateItem` prompt is run without blocking a thread, and its
    /// `Completed` counts only from the service: a "dismissed" sent by another peer, to the
    /// caller and to everyone, before the service's own, changes nothing (`forge`); a prompt
    /// that never completes ends in `ERR_TIMEOUT` and is dismissed (`never`).
    @Test(arguments: [("forge", ["write=ok", "dismissed=0"]), ("never", ["write=ERR_TIMEOUT", "dismissed=1"])])
    func aWritesPromptCompletesOnlyByTheServicesOwnWord(prompts: String, expected: [String]) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--prompts", prompts, "--"]
                                           + Subprocess.scenario("Hostile/prompted-write"), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput.split(separator: "\n").map(String.init) == expected, "\(run.standardOutput)\n\(run.standardError.suffix(2000))")
    }

    /// A KeePassXC that locks without announcing it first (its lock after inactivity hid its
    /// items before its signal, once in CI): a long-lived reader whose remembered item is gone
    /// reads `Locked` again rather than trust the state it remembers, and answers as locked at
    /// once, never with a held search's timeout; so does its next miss. (Trusting the remembered
    /// state, both reads were `ERR_TIMEOUT`: checked.)
    @Test func aLockAnnouncedLateReadsAsLockedNotAsATimeout() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--silent-lock-after", "2", "--"]
                                           + Subprocess.scenario("Hostile/silent-lock"), environment: Subprocess.scenarioEnvironment([:]))
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("before=kept kept") && lines.contains { $0.hasPrefix("remembered=1 ") }, "the second read used the remembered item: \(run.standardOutput)")
        #expect(lines.contains("after=!ERR_INTERACTION_NOT_ALLOWED !ERR_INTERACTION_NOT_ALLOWED"), "\(run.standardOutput)\n\(run.standardError.suffix(2000))")
    }

    /// A daemon that dies while its unlock dialog is open: the call waiting for the dialog is
    /// answered as unavailable, not when its timeout passes. This process runs the prompt and
    /// waits for the daemon it asked, until that daemon leaves the bus (libsecret's own prompt
    /// never completes then, and its thread stays blocked).
    @Test func aDaemonThatDiesUnderItsUnlockDialogIsUnavailableAtOnce() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--stays-locked", "--unlock-prompt", "vanish", "--"]
                                           + Subprocess.scenario("Hostile/unlock-vanish"), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput.contains("read=!ERR_SERVICE_UNAVAILABLE"), "\(run.standardOutput)\n\(run.standardError.suffix(2000))")
    }

    @Test(arguments: [("get", ["the value", "get=0"]), ("exists", ["exists=0", "the value", "get=0"]),
                      ("delete", ["delete=0", "get=1"]), ("set", ["set=0", "new value", "get=0"])])
    func aKeePassXCDatabaseOpenedDuringASearchIsSearchedToo(operation: String, expected: [String]) async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--name", "keepassxc", "--late-collection", "2", "--"]
                                           + Subprocess.scenario("Hostile/late-collection", [operation]), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput == (["set=0"] + expected).map { $0 + "\n" }.joined(), "\(run.standardOutput) \(run.standardError)")
    }

    /// A daemon that takes the service's name during a call never receives this connection's
    /// session path: calls go to the unique name the session was opened with, and a call whose
    /// daemon lost the name meanwhile is made again on a new connection. (The second double has
    /// another client's session at the same path, as KWallet, which numbers sessions from 1,
    /// would: a secret sent there would be stored as bytes nobody wrote.)
    @Test func aDaemonThatTakesTheNameDuringAWriteNeverGetsTheOldSession() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--hand-over-on-search", "--"] + Subprocess.scenario("Hostile/handed-over"),
                                           environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardError.contains("set=0"), "\(run.standardError)")
        #expect(run.standardOutput == "7468652076616c75650a\n", "\(run.standardOutput) \(run.standardError)")   // "the value\n"
    }

    /// A write in one round trip (GNOME Keyring, here the double owning `org.gnome.keyring`)
    /// makes its item before it hears what else the key holds. Another item of the key in a
    /// locked collection, which a write without interaction cannot remove, fails the write with
    /// `ERR_INTERACTION_NOT_ALLOWED` (77), and the new item is taken back: the keyring is left as
    /// it was, as when the search came first.
    @Test func aWriteThatCannotRemoveALockedDuplicateLeavesTheKeyringAsItWas() async throws {
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve", "--own", "org.gnome.keyring", "--locked-duplicate", "--"]
                                           + Subprocess.scenario("Hostile/locked-duplicate"), environment: Subprocess.scenarioEnvironment([:]))
        #expect(run.standardOutput.contains("set=77") && run.standardOutput.contains("items=0"), "\(run.standardOutput)\(run.standardError)")
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

    /// The same, where the provider's process cannot be seen (a Flatpak's PID namespace,
    /// `hidepid=`, a container given the bus): the client runs in a PID namespace of its own.
    /// KWallet is told from the bus names its owner holds; a provider that neither the bus nor
    /// its process names is read twice all the same.
    @Test(arguments: [
        (["--own", "org.kde.kwalletd5"], false),
        (["--own", "org.kde.kwalletd5"], true),
        (["--name", "kwalletd5"], true),
        ([], true),
    ] as [([String], Bool)])
    func aSecretReadWithTheWrongKeyIsNeverReturnedWhereverTheProviderIsTold(double: [String], otherPIDNamespace: Bool) async throws {
        let scenario = Subprocess.scenario("Hostile/bad-session-read")
        let client = otherPIDNamespace ? ["unshare", "--pid", "--fork", "--mount-proc"] + scenario : scenario
        let run = try await Subprocess.run([Subprocess.withFakeService, "serve"] + double + ["--bad-sessions", "2:1", "--bad-sessions-decrypt", "--"] + client,
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

    /// A Secret portal that does not hand the key over (here the double's, which refuses) is
    /// `ERR_SERVICE_UNAVAILABLE`, whatever version it reports: the sandbox keyring never falls
    /// back to the Secret Service that answers on the same bus (the double's).
    @Test(arguments: [1, 2])
    func aSecretPortalThatGivesNoKeyIsUnavailableNeverTheSecretService(version: Int) async throws {
        let outcome = try await Self.againstFake(["--portal-version", "\(version)"], ["set", "token", "--app", "portal-test"],
                                                 input: "value", environment: ["SNAP_NAME": "portal-test"])
        #expect(outcome.status == 69, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("did not hand"), "\(outcome.standardError)")
    }

    /// libsecret's test variables (which `flatpak override --env` can set) give the sandbox
    /// keyring neither a key nor a place: the key is the portal's, here refused.
    @Test(arguments: ["SECRET_FILE_TEST_PASSWORD", "SECRET_FILE_TEST_PATH"])
    func libsecretsTestVariablesChangeNothingInTheSandbox(variable: String) async throws {
        let outcome = try await Self.againstFake(["--portal-version", "1"], ["get", "token", "--app", "variable-test"],
                                                 environment: ["SNAP_NAME": "variable-test", variable: "chosen-by-someone-else"])
        #expect(outcome.status == 69, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("did not hand"), "\(outcome.standardError)")
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
