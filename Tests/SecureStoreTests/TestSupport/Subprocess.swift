import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the package's executables and scripts as child processes, for tests that need their
/// own environment or their own keyring daemon.
enum Subprocess {
    struct Outcome {
        var status: Int32
        var standardOutput: String
        var standardError: String
        var seconds: Double
    }

    /// The package's root: this file is Tests/SecureStoreTests/TestSupport/Subprocess.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Where `swift build` put the executables: beside the test bundle.
    static let binDirectory: URL = {
        let testExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testExecutable).deletingLastPathComponent()
    }()

    static var securestore: String { binDirectory.appendingPathComponent("securestore").path }
    static var withSecretService: String { packageRoot.appendingPathComponent("Scripts/with-secret-service").path }
    static var withDisplay: String { packageRoot.appendingPathComponent("Scripts/with-display").path }
    static var withSandbox: String { packageRoot.appendingPathComponent("Scripts/with-sandbox").path }
    /// The hostile test double (Tests/Fakes): a fake Secret Service and a signal forger, the bus
    /// it runs on, and a pseudo-terminal driver.
    static var hostilePeer: String { packageRoot.appendingPathComponent("Tests/Fakes/hostile-peer.py").path }
    static var withFakeService: String { packageRoot.appendingPathComponent("Tests/Fakes/with-fake-service.sh").path }
    static var atTerminal: String { packageRoot.appendingPathComponent("Tests/Fakes/at-terminal.py").path }

    static var probe: String { binDirectory.appendingPathComponent("StressProbe").path }

    /// The command line that runs the scenario `name` (the shell program
    /// Tests/Scenarios/NAME.sh) with `arguments`.
    static func scenario(_ name: String, _ arguments: [String] = []) -> [String] {
        ["bash", packageRoot.appendingPathComponent("Tests/Scenarios/\(name).sh").path] + arguments
    }

    /// What every scenario is given (Tests/Scenarios/lib.sh): `$SECURESTORE`, `$PROBE`,
    /// `$SECURESTORE_BIN`, with `environment`'s changes.
    static func scenarioEnvironment(_ environment: [String: String?]) -> [String: String?] {
        ["SECURESTORE": securestore, "PROBE": probe, "SECURESTORE_BIN": binDirectory.path].merging(environment) { $1 }
    }

    /// Runs the scenario `name` in this process's session.
    static func run(scenario name: String, _ arguments: [String] = [], environment: [String: String?] = [:]) async throws -> Outcome {
        try await run(scenario(name, arguments), environment: scenarioEnvironment(environment))
    }

    /// Runs the scenario `name` on the host side of Scripts/with-sandbox, where `in_sandbox APP
    /// CMD...` runs CMD in APP's sandbox and everything else runs on the host's private session
    /// (with its unlocked gnome-keyring).
    static func aroundSandbox(scenario name: String, _ arguments: [String] = [], environment: [String: String?] = [:]) async throws -> Outcome {
        try await run([withSandbox, "--host"] + scenario(name, arguments), environment: scenarioEnvironment(environment))
    }

    /// Scripts/unlock-dialog, which drives the desktop keyring's unlock dialog.
    static var unlockDialog: String { packageRoot.appendingPathComponent("Scripts/unlock-dialog").path }

    /// ``aroundSandbox(scenario:_:environment:)`` on a private X display, where the desktop
    /// keyring's unlock dialog can appear (`$UNLOCK_DIALOG` drives it).
    static func aroundSandboxOnDesktop(scenario name: String) async throws -> Outcome {
        try await run([withDisplay, withSandbox, "--host"] + scenario(name),
                      environment: scenarioEnvironment(["UNLOCK_DIALOG": unlockDialog]))
    }

    /// `secret-tool ARGUMENTS`, tried up to three times while it fails with an error message, as
    /// `store_item` in Tests/Scenarios/lib.sh does: against KWallet, `secret-tool`'s own transfer
    /// session is now and then gone by its next call ("Can't find session", seen in CI), which
    /// is the outside client's trouble, not what these tests check. A lookup that finds nothing
    /// exits 1 without a message and is not tried again. Returns the last outcome.
    static func secretTool(_ arguments: [String], input: String = "") async throws -> Outcome {
        var outcome = try await run(["secret-tool"] + arguments, input: input)
        for _ in 1..<3 where outcome.status != 0 && !outcome.standardError.isEmpty {
            outcome = try await run(["secret-tool"] + arguments, input: input)
        }
        return outcome
    }

    /// `secret-tool lookup ATTRIBUTES` of an item that exists, tried up to three times while it
    /// fails, with a message or without (see `secretTool(_:input:)`), or finds nothing: against KWallet, `secret-tool`'s own transfer session now and then derives
    /// the wrong key (KDE bug 514194), and libsecret reports a secret it cannot decrypt as no
    /// value, exit 1 without a message (seen in CI).
    static func secretToolLookup(_ attributes: [String]) async throws -> Outcome {
        var outcome = try await run(["secret-tool", "lookup"] + attributes)
        for _ in 1..<3 where outcome.status != 0 {
            outcome = try await run(["secret-tool", "lookup"] + attributes)
        }
        return outcome
    }

    /// `secret-tool store` with `attributes` and `value` (see `secretTool(_:input:)`).
    static func storeWithSecretTool(label: String, _ attributes: [String], value: String) async throws -> Outcome {
        try await secretTool(["store", "--label", label] + attributes, input: value)
    }

    /// Runs `arguments` with this process's environment changed by `environment` (a `nil`
    /// value removes a variable) and `input` on standard input. The child starts with an empty
    /// signal mask (Dispatch's threads block signals, and a child that inherits that, such as
    /// dbus-run-session, never hears of its own children's exit), and the waiting happens on a
    /// thread of its own, off the cooperative pool.
    static func run(_ arguments: [String], environment: [String: String?] = [:], input: String = "") async throws -> Outcome {
        var fullEnvironment = ProcessInfo.processInfo.environment
        for (name, value) in environment { fullEnvironment[name] = value }
        let environmentLines = fullEnvironment.map { "\($0.key)=\($0.value)" }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try spawnAndWait(["/usr/bin/env"] + arguments, environmentLines, input) })
            }
        }
    }

    /// A pipe whose ends are close-on-exec, so that no other child inherits them (a child
    /// holding another test's pipe keeps that test waiting for end-of-file).
    private struct ClosingPipe {
        let read: FileHandle
        let write: FileHandle
        init() throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            read = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
            write = FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
        }
    }

    /// Held from creating a child's pipes until it is spawned: no other child may start while
    /// a pipe is not yet close-on-exec.
    private static let spawning = Mutex(())

    private static func spawnAndWait(_ arguments: [String], _ environment: [String], _ input: String) throws -> Outcome {
        let (standardInput, standardOutput, standardError, pid, start) = try spawning.withLock { _ in
            let standardInput = try ClosingPipe(), standardOutput = try ClosingPipe(), standardError = try ClosingPipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the child's copies 0, 1 and 2.
        posix_spawn_file_actions_adddup2(&actions, standardInput.read.fileDescriptor, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput.write.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError.write.fileDescriptor, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGCHLD, SIGTERM, SIGINT] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, argv[0]!, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        return (standardInput, standardOutput, standardError, pid, start)
        }
        // Close the child's ends here, so reading sees end-of-file when the child is done.
        try standardInput.read.close()
        try standardOutput.write.close()
        try standardError.write.close()
        // A child may exit without reading all of its input (a refused value): the write then
        // fails with EPIPE, which is the child's answer, not the harness's failure.
        try? standardInput.write.write(contentsOf: Data(input.utf8))
        try standardInput.write.close()

        // Read both pipes while the child runs. A grandchild that outlives it (a daemon D-Bus
        // started) may hold them open: stop reading two seconds after the child has exited.
        let exited = Atomic<UInt64>(0)
        let errorData = Mutex<Data>(Data())
        let errorReader = Thread { errorData.withLock { $0 = drain(standardError.read.fileDescriptor, exited) } }
        errorReader.start()
        let outputData = Mutex<Data>(Data())
        let outputReader = Thread { outputData.withLock { $0 = drain(standardOutput.read.fileDescriptor, exited) } }
        outputReader.start()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exited.store(DispatchTime.now().uptimeNanoseconds, ordering: .sequentiallyConsistent)
        while !errorReader.isFinished || !outputReader.isFinished { Thread.sleep(forTimeInterval: 0.005) }
        let elapsed = ContinuousClock.now - start
        // WIFEXITED / WEXITSTATUS, spelled out: the macros do not import.
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(
            status: exitStatus,
            standardOutput: outputData.withLock { String(decoding: $0, as: UTF8.self) },
            standardError: errorData.withLock { String(decoding: $0, as: UTF8.self) },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Reads `descriptor` to end-of-file, or until two seconds after `exited` (uptime
    /// nanoseconds, 0 while the child runs) is set.
    private static func drain(_ descriptor: Int32, _ exited: borrowing Atomic<UInt64>) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) > 0 {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 { data.append(contentsOf: buffer[0..<count]); continue }
                if count == 0 || errno != EINTR { return data }
            }
            let exitTime = exited.load(ordering: .sequentiallyConsistent)
            if exitTime != 0 && DispatchTime.now().uptimeNanoseconds > exitTime + 2_000_000_000 { return data }
        }
    }

    /// Runs the scenario `name` inside a private D-Bus session with its own unlocked
    /// gnome-keyring-daemon (or `SECURESTORE_PROVIDER`'s provider).
    static func inPrivateKeyring(scenario name: String, _ arguments: [String] = [], environment: [String: String?] = [:]) async throws -> Outcome {
        try await run([withSecretService] + scenario(name, arguments), environment: scenarioEnvironment(environment))
    }

    /// Runs `arguments` inside a private D-Bus session with its own unlocked gnome-keyring-daemon.
    static func inPrivateKeyring(_ arguments: [String], environment: [String: String?] = [:]) async throws -> Outcome {
        try await run([withSecretService] + arguments, environment: environment)
    }

    /// Like ``inPrivateKeyring(scenario:_:environment:)``, on a private X display (Xvfb) where
    /// the Secret Service's unlock dialog can appear. `$UNLOCK_DIALOG` drives it and
    /// `$LOCKED_KEYRING` is the LockedKeyring example.
    static func onDesktop(scenario name: String, _ arguments: [String] = [], environment: [String: String?] = [:]) async throws -> Outcome {
        let desktop: [String: String?] = [
            "LOCKED_KEYRING": binDirectory.appendingPathComponent("LockedKeyring").path,
            "UNLOCK_DIALOG": unlockDialog,
        ]
        return try await run([withDisplay, withSecretService] + scenario(name, arguments),
                             environment: scenarioEnvironment(desktop.merging(environment) { $1 }))
    }
}

import Synchronization

/// How much slower every process runs under a sanitizer (Scripts/test-sanitized sets
/// SECURESTORE_TEST_TIME_SCALE): the time a test gives a dialog or a fake service's timeout is
/// scaled by it. Durations are checked against the timeouts in play (before the store's, or
/// GDBus's 25 s), never against how fast a machine is.
enum TimeScale {
    static let factor = ProcessInfo.processInfo.environment["SECURESTORE_TEST_TIME_SCALE"].flatMap(Double.init) ?? 1

    static func seconds(_ duration: Double) -> Double { duration * factor }
}
