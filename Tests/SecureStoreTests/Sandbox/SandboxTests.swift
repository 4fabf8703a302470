import Foundation
import Testing

/// The sandbox keyring seen from outside: each test starts Scripts/with-sandbox (a Flatpak-like
/// sandbox, the real xdg-desktop-portal, gnome-keyring behind it) and drives the command in
/// there and on the host. The backend contract itself runs inside the sandbox (Scripts/test).
@Suite("Sandboxed apps", TestSelection(), .tags(.keyring, .processes))
struct SandboxTests {
    static func lines(_ outcome: Subprocess.Outcome) -> [String] {
        outcome.standardOutput.split(separator: "\n").map(String.init)
    }

    /// Each of `commands` ("NAME=STATUS MILLISECONDS" lines, each command given a 60 s timeout)
    /// exited with ERR_SERVICE_UNAVAILABLE (69), before GDBus's own 25 s timeout: nothing waited
    /// for an answer that could not come. "start=0 ..." is the command starting in the sandbox.
    static func expectFailedFastAndTyped(_ commands: [String], _ lines: [String], _ context: String,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(lines.contains { $0.hasPrefix("start=0 ") }, "the command starts in the sandbox: \(context)", sourceLocation: sourceLocation)
        for command in commands {
            let result = ScenarioOutput(lines: lines).command(command)
            #expect(result?.status == 69, "\(command): \(context)", sourceLocation: sourceLocation)
            #expect((result?.milliseconds ?? .max) < 25_000, "\(command) waited for no timeout: \(context)", sourceLocation: sourceLocation)
        }
    }

    /// The sandbox's items live in the app's own keyring file, and the host keyring never sees
    /// them; the host's items are invisible in the sandbox. Bytes come back exactly in there.
    @Test func itemsInTheSandboxAndOnTheHostNeverMeet() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/sandbox-and-host")
        let lines = Self.lines(outcome)
        for line in [
            "sandbox-set=0", "sandbox-set-bytes=0", "sandbox-bytes=00fffe", "file=app-private", "host-get=1",
            "host-items=0", "host-set=0", "sandbox-get=inside", "host-get-again=host", "sandbox-list=[raw token ]",
            "sandbox-exists-missing=1",
        ] {
            #expect(lines.contains(line), "missing \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }

    /// Two apps, each in its own sandbox, with the same application ID and key: each has its
    /// own keyring, so neither sees, lists or deletes the other's item.
    @Test func twoAppsInTwoSandboxesNeverSeeEachOther() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/two-sandboxes", environment: ["SECURESTORE_SANDBOX_APP_IDS": "org.example.A org.example.B"])
        let lines = Self.lines(outcome)
        for line in ["a-set=0", "b-get=1", "b-set=0", "b-clear=0", "a-get=a", "a-list=token"] {
            #expect(lines.contains(line), "missing \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }

    /// Inside the sandbox, libsecret's own `secret-tool` (with the portal's key) reads what
    /// SecureStore wrote and the other way round; four processes writing ten keys each at once
    /// lose nothing; and a watch in one process hears another's write.
    @Test func theSandboxKeyringIsSharedSafely() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/shared-keyring")
        let lines = Self.lines(outcome)
        for line in ["set=0", "libsecret-reads=ours", "libsecret-set=0", "we-read=theirs", "keys=40", "k3-7=v3-7", "heard=1"] {
            #expect(lines.contains(line), "missing \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
        #expect(!outcome.standardOutput.contains("failed"), "\(outcome.standardOutput)")
    }

    /// A sandbox with no Secret portal: every call fails with ERR_SERVICE_UNAVAILABLE (69)
    /// without waiting for a timeout, writes nothing anywhere, and never falls back to the host keyring.
    @Test func aSandboxWithoutThePortalFailsFastAndTyped() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/no-portal", environment: ["SECURESTORE_SANDBOX_PORTAL": "0"])
        let lines = Self.lines(outcome)
        let context = "\(outcome.standardOutput)\n\(outcome.standardError)"
        Self.expectFailedFastAndTyped(["set", "get", "list"], lines, context)
        #expect(lines.contains("error=ERR_SERVICE_UNAVAILABLE"), "\(context)")
        #expect(lines.contains("file=0") && lines.contains("host-items=0"), "\(context)")
        // doctor says why, with the status a call gets.
        let doctor = lines.first { $0.hasPrefix("doctor=") } ?? ""
        #expect(doctor.contains(#""keyring":"sandbox-keyring""#) && doctor.contains(#""sandbox":"Flatpak""#)
                && doctor.contains(#""portal":{"error":"ERR_SERVICE_UNAVAILABLE""#) && doctor.contains(#""usable":false"#), "\(context)")
        #expect(lines.contains("doctor-exit=69"), "\(context)")
    }

    /// A sandbox whose portal refuses to hand the key over (here: the desktop's keyring is gone,
    /// the portal's restart of it has no unlocked keyring and no display for its unlock dialog)
    /// fails with ERR_SERVICE_UNAVAILABLE without waiting for a timeout, writing nothing anywhere.
    @Test func aSandboxWhosePortalRefusesFailsFastAndTyped() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/portal-refuses")
        let lines = Self.lines(outcome)
        let context = "\(outcome.standardOutput)\n\(outcome.standardError)"
        Self.expectFailedFastAndTyped(["set", "get"], lines, context)
        #expect(lines.contains("error=ERR_SERVICE_UNAVAILABLE"), "\(context)")
        #expect(lines.contains("file=0"), "\(context)")
    }

    /// Each process's first call gets the key from the portal's answer to its first request, and
    /// asks exactly once: the answer is subscribed to before the request goes out (see
    /// PortalSecret), so none is lost and none is asked again; the count would show either.
    @Test func everyFirstCallIsAnsweredOnItsFirstRequest() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/first-requests")
        let lines = Self.lines(outcome)
        let context = "\(outcome.standardOutput)\(outcome.standardError)"
        // 1: no such item, the call itself answered.
        #expect(lines.filter { $0.hasPrefix("run=") && $0.hasSuffix(" status=1") }.count == 20, "\(context)")
        #expect(lines.contains("requests=20"), "\(context)")
    }

    /// The portal's answer to the first call is not lost when it comes at once after its reply,
    /// and a portal that is slow to answer is not asked again. Pausing the desktop's keyring for
    /// 1-5 s while the first call is under way makes the reply and the answer come together.
    /// Each start here must answer itself, after exactly one request.
    @Test func thePortalsAnswerIsNotLostWhenTheKeyringIsSlow() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/slow-keyring")
        let lines = Self.lines(outcome)
        let context = "\(outcome.standardOutput)\(outcome.standardError)"
        let runs = lines.filter { $0.hasPrefix("run=") }
        #expect(runs.count == 6, "\(context)")
        for run in runs {
            // 1: no such item, the call itself answered (a lost answer ends at the timeout, 75).
            #expect(run.contains("status=1 "), "\(run)\n\(context)")
        }
        #expect(lines.contains("requests=6"), "\(context)")
    }

    /// The examples run unchanged in the sandbox: `SecureStore(applicationID:)` picks the
    /// sandbox keyring by itself.
    @Test func theQuickStartExampleRunsUnchangedInTheSandbox() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/quickstart")
        let lines = Self.lines(outcome)
        #expect(lines.contains("get apiToken -> second-token") && lines.contains("exit=0"), "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(lines.contains("host-items=0"))
        // doctor, in the sandbox: the sandbox keyring, the portal's version, the keyring file.
        let doctor = lines.first { $0.hasPrefix("doctor=") } ?? ""
        #expect(doctor.contains(#""keyring":"sandbox-keyring""#) && doctor.contains(#""sandbox":"Flatpak""#)
                && doctor.contains(#""portal":{"version":"#) && doctor.contains(#""mode":"0600""#)
                && doctor.contains(#""source":"the Secret portal's key""#) && doctor.contains(#""usable":true"#), "\(outcome.standardOutput)")
        #expect(lines.contains("doctor-exit=0"), "\(outcome.standardOutput)")
    }

    /// An app that moves into a sandbox (and may still talk to the Secret Service) moves its
    /// items into the sandbox keyring: every service, bytes and access groups included, each
    /// exactly once, also when the first run stops half way; other apps' items stay. A report
    /// that cannot be written (a full device) exits 74 with `ERR_IO`, as every command's output.
    @Test func movingInMovesEveryItemExactlyOnceAlsoWhenInterrupted() async throws {
        let outcome = try await Subprocess.aroundSandbox(scenario: "Sandbox/moving-in", environment: ["SECURESTORE_SANDBOX_TALK_SECRETS": "1"])
        let lines = Self.lines(outcome)
        for line in [
            // Stopped after the second copy, before its original went: 5 host items less the first.
            "interrupted=3", "host-after-interruption=4",
            "second=moved 2, already in the sandbox 1", "into-full=74 ERR_IO", "third=moved 0, already in the sandbox 0",
            "host-mover=0", "host-group=0", "host-bystander=stays", "k1=one", "k2=00ff", "k3=three", "k4=four",
        ] {
            #expect(lines.contains(line), "missing \(line)\n\(outcome.standardOutput)\n\(outcome.standardError)")
        }
    }
}
