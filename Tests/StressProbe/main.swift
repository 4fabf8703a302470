// A long-lived SecureStore client for the fault and load tests: it keeps calling while a test
// script kills, stops or replaces the keyring daemon under it, and reports what it saw.
//
//   StressProbe memory-scan --app A
//       Scans its own writable memory (/proc/self/mem) for a live plaintext ("control=N",
//       "control-zeroed=N"), then after a setBytes and ten getBytes whose arrays it zeroes
//       ("reads=N", "after=N in=MAPPINGS").
//   StressProbe writes --app A --seconds S --timeout T --resume-file F [--ready-file R] [--felt-file L]
//       Writes fresh keys (w0, w1, ...) from 8 tasks until F exists (the script creates it once a
//       new daemon runs; at most S seconds), noting each write that reported success and each
//       failure (code, milliseconds), creating R once a write has worked and L once one has
//       failed. Then reads back
//       every successful write, and makes new calls. Prints "verified=N", "mismatched=N", "failures=CODE:N,...",
//       "slowest-failure-ms=N", "after-restart=ok|CODE".
//   StressProbe down --app A --count N --timeout T [--write]
//       N calls against a daemon that is gone: prints each outcome and its milliseconds, then
//       "available=true|false".
//   StressProbe cancel --app A --after-ms M [--read]
//       Starts a setItem of a fresh value over an existing one (with --read, a getItem of it),
//       cancels it after M ms, prints "outcome=..." and "milliseconds=N". The script checks the
//       item afterwards.
//   StressProbe available --app A [--interaction]
//       Prints "available=true|false" from isAvailable(), with user interaction allowed when
//       --interaction is given.
//   StressProbe bulk --app A --count N
//       Fills one service with N items, then checks allKeys, a sample of getItem and deleteAll,
//       printing what it found and how long each step took.
//   StressProbe idle-restart --app A --warm ...
//       After the warm-up pause (see --warm), during which the script replaces the daemon:
//       reads "token" and writes and reads another key, printing "read=VALUE|nil|CODE" and
//       "write=ok|wrong|CODE".
//   StressProbe write-once --app A
//       Writes "k" and reads it back: prints "write=ok|wrong|CODE".
//   StressProbe busy-available --app A
//       Opens its connection (one isAvailable()), starts 800 concurrent setItems, then asks
//       isAvailable() again while they queue; prints "available=true|false ms=N",
//       "writes-queued=800" and "writes-finished-before=N" (those done when it answered).
//   StressProbe impostor
//       Takes the name org.freedesktop.secrets on the session bus and answers every method
//       call with a reply of the wrong shape (one string), as a broken or hostile service
//       might; prints "owned" and runs until killed.
//   StressProbe ... --warm --ready-file R --resume-file F
//       Before any of the above: one getItem (which opens the connection), then R is created
//       and the probe waits for F. The script does its harm in between, so that the calls meet
//       it on a connection that worked, as a long-running app's would.
//   StressProbe reader --app A
//       One process that keeps reading for as long as standard input asks: each line
//       "get KEY" prints "KEY VALUE", "KEY nil" or "KEY !CODE", "delete KEY" "KEY deleted" or
//       "KEY !CODE"; "stats" prints "remembered=N"
//       (getItem calls answered from a remembered item path). For the coherence test, which
//       changes the keyring from other processes between the questions.
//   StressProbe watch --app A
//       Prints "watching" once changes(options:) returned, then each change as it comes:
//       "added KEY", "changed KEY", "removed KEY", "locked", "unlocked", "service-unavailable",
//       "service-available". For the tests of changes that other clients make.
//   StressProbe watch-own-writes --app A
//       As watch, and each line "set KEY VALUE" on standard input is written by this process
//       (another SecureStore of the same app), so the stream hears its own process's writes.
//   StressProbe writer --app A --tag T --rounds R --keys K
//       R rounds of setItem on K shared keys with values "T-round", reading each back; prints
//       "foreign=N" for reads that were not a value any writer could have written.
//   StressProbe read-during-write --app A
//       Writes "old" to "k", then overwrites it with "new" while other tasks keep reading "k"
//       until the overwrite has ended; prints "write=ok|CODE", "reads=N" and "foreign=N" (reads
//       that returned anything but "old" or "new").
//   StressProbe file-write-killed --step STEP --keyring PATH --password-file F [--timeout T]
//       Writes "new" to key "k" of app "killed" in the file keyring at PATH, and kills itself
//       (SIGKILL) when the write reaches STEP (a KeyringFile.WriteStep); for the test that a
//       killed writer leaves the old file or the new one, whole.
#if canImport(CLibSecret)
import CLibSecret
#endif
import Foundation
import Synchronization
@_spi(SecureStoreInternal) import SecureStore

func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func milliseconds(since start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
}

func describe(_ error: any Error) -> String {
    (error as? SecureStoreError)?.code.rawValue ?? (error is CancellationError ? "CancellationError" : "untyped:\(type(of: error))")
}

/// Writes `key` and reads it back, printing "NAME=ok|wrong|CODE".
func sayWhetherWritesWork(_ name: String, key: String) async {
    do {
        try await store.setItem(key, "fine")
        say("\(name)=" + (try await store.getItem(key) == "fine" ? "ok" : "wrong"))
    } catch {
        say("\(name)=\(describe(error))")
    }
}

#if canImport(CLibSecret)
/// The impostor's message filter. It runs on GDBus's own thread (no main loop is needed), so
/// it is a nonisolated function, not a closure of the main-actor top-level code.
nonisolated func answerEveryCallWithAString(
    _ connection: OpaquePointer?, _ message: OpaquePointer?, _ incoming: gboolean, _: UnsafeMutableRawPointer?
) -> OpaquePointer? {
    guard incoming != 0, let message, g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL else { return message }
    let reply = g_dbus_message_new_method_reply(message)
    var body = [g_variant_new_string("not what you asked for")]
    g_dbus_message_set_body(reply, g_variant_new_tuple(&body, 1))
    g_dbus_connection_send_message(connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, nil, nil)
    g_object_unref(UnsafeMutableRawPointer(reply))
    g_object_unref(UnsafeMutableRawPointer(message))
    return nil
}
#endif

let application = option("--app", "stress-probe")
let timeout = Duration.seconds(Double(option("--timeout", "5"))!)
let interaction: UserInteraction = CommandLine.arguments.contains("--interaction") ? .allowed : .notAllowed
let store = try SecureStore(applicationID: application, userInteraction: interaction, timeout: timeout)

actor Tally {
    var written: [String: String] = [:]
    var failures: [String: Int] = [:]
    var slowestFailure = 0
    func wrote(_ key: String, _ value: String) { written[key] = value }
    func failed(_ code: String, _ milliseconds: Int) {
        failures[code, default: 0] += 1
        slowestFailure = max(slowestFailure, milliseconds)
    }
}

if CommandLine.arguments.contains("--warm") {
    _ = try? await store.getItem("warm-up")
    _ = FileManager.default.createFile(atPath: option("--ready-file", "/nonexistent"), contents: nil)
    let resumeFile = option("--resume-file", "/nonexistent")
    // A test script that failed before resuming it must not leave this probe behind forever.
    let giveUp = ContinuousClock.now + .seconds(120)
    while !FileManager.default.fileExists(atPath: resumeFile) {
        guard ContinuousClock.now < giveUp else { say("never resumed"); exit(3) }
        try await Task.sleep(for: .milliseconds(50))
    }
}

switch CommandLine.arguments.dropFirst().first {
case "file-write-killed":
    let step = KeyringFile.WriteStep(rawValue: option("--step", ""))!
    KeyringFile.onWriteStep { reached in if reached == step { kill(getpid(), SIGKILL) } }
    let fileStore = SecureStore(backend: try FileKeyringBackend(
        applicationID: "killed", path: option("--keyring", ""), password: .file(option("--password-file", "")), timeout: timeout))
    try await fileStore.setItem("k", "new")
    say("not killed")
case "writes":
    let seconds = Double(option("--seconds", "3"))!
    let resumeFile = option("--resume-file", "/nonexistent")
    let readyFile = option("--ready-file", "/nonexistent")
    let feltFile = option("--felt-file", "/nonexistent")
    let tally = Tally()
    let end = ContinuousClock.now + .seconds(seconds)
    await withTaskGroup(of: Void.self) { group in
        for task in 0..<8 {
            group.addTask {
                var index = 0
                // Until the script resumes the probe (or, at the latest, for --seconds).
                while ContinuousClock.now < end && !FileManager.default.fileExists(atPath: resumeFile) {
                    let key = "w\(task)-\(index)", value = "value \(task) \(index) ✓"
                    index += 1
                    let start = ContinuousClock.now
                    do {
                        try await store.setItem(key, value)
                        await tally.wrote(key, value)
                        // The script waits for a write that worked before it kills the daemon.
                        _ = FileManager.default.createFile(atPath: readyFile, contents: nil)
                    } catch {
                        await tally.failed(describe(error), milliseconds(since: start))
                        // The script waits for a failure before it starts a new daemon.
                        _ = FileManager.default.createFile(atPath: feltFile, contents: nil)
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }
    }
    while !FileManager.default.fileExists(atPath: resumeFile) { try await Task.sleep(for: .milliseconds(50)) }
    var mismatched = 0
    let written = await tally.written
    for (key, value) in written {
        var read: String??
        // The new daemon may still be settling, for seconds on a loaded machine under a sanitizer.
        for _ in 0..<40 where read == nil {
            read = try? await store.getItem(key)
            if read == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        if read != .some(.some(value)) { mismatched += 1 }
    }
    say("verified=\(written.count - mismatched)")
    say("mismatched=\(mismatched)")
    say("failures=" + (await tally.failures).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
    say("slowest-failure-ms=\(await tally.slowestFailure)")
    await sayWhetherWritesWork("after-restart", key: "after-restart")
case "down":
    let interval = Int(option("--interval-ms", "0"))!
    for _ in 0..<Int(option("--count", "5"))! {
        if interval > 0 { try await Task.sleep(for: .milliseconds(interval)) }
        let start = ContinuousClock.now
        do {
            if CommandLine.arguments.contains("--write") {
                try await store.setItem(option("--key", "anything"), "new value")
                say("outcome=written ms=\(milliseconds(since: start))")
            } else {
                let value = try await store.getItem(option("--key", "anything"))
                say("outcome=\(value == nil ? "nil" : "value") ms=\(milliseconds(since: start))")
            }
        } catch {
            say("outcome=\(describe(error)) ms=\(milliseconds(since: start))")
        }
    }
    let start = ContinuousClock.now
    let available = await store.isAvailable()
    say("available=\(available) ms=\(milliseconds(since: start))")
case "cancel":
    let after = Int(option("--after-ms", "100"))!
    let start = ContinuousClock.now
    let reading = CommandLine.arguments.contains("--read")
    let operation = Task {
        if reading { _ = try await store.getItem("target") } else { try await store.setItem("target", "new value") }
    }
    try await Task.sleep(for: .milliseconds(after))
    operation.cancel()
    switch await operation.result {
    case .success: say(reading ? "outcome=read" : "outcome=written")
    case .failure(let error): say("outcome=\(describe(error))")
    }
    say("milliseconds=\(milliseconds(since: start) - after)")
case "available":
    say("available=\(await store.isAvailable())")
case "bulk":
    let count = Int(option("--count", "1000"))!
    let options = SecureStoreOptions(keychainService: "bulk")
    var start = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for task in 0..<4 {
            group.addTask {
                for index in stride(from: task, to: count, by: 4) {
                    do { try await store.setItem(String(format: "item%05d", index), "value \(index)", options: options) }
                    catch { say("fill-error=\(describe(error))") }
                }
            }
        }
    }
    say("fill-ms=\(milliseconds(since: start))")
    start = ContinuousClock.now
    let keys = try await store.allKeys(options: options)
    say("allKeys-ms=\(milliseconds(since: start))")
    say("allKeys-count=\(keys.count)")
    say("allKeys-sorted-and-complete=\(keys == (0..<count).map { String(format: "item%05d", $0) })")
    var wrong = 0
    for index in stride(from: 0, to: count, by: max(1, count / 50)) {
        if try await store.getItem(String(format: "item%05d", index), options: options) != "value \(index)" { wrong += 1 }
    }
    say("sample-wrong=\(wrong)")
    start = ContinuousClock.now
    do {
        try await store.deleteAll(options: options)
        say("deleteAll=ok")
    } catch {
        say("deleteAll=\(describe(error))")
    }
    say("deleteAll-ms=\(milliseconds(since: start))")
    say("after-deleteAll=\(try await store.allKeys(options: options).count)")
case "write-once":
    await sayWhetherWritesWork("write", key: "k")
case "idle-restart":
    do {
        say("read=" + (try await store.getItem("token") ?? "nil"))
    } catch {
        say("read=\(describe(error))")
    }
    await sayWhetherWritesWork("write", key: "after")
case "busy-available":
    // Whether isAvailable answers before the writes queued ahead of it are done.
    _ = await store.isAvailable()
    let queued = 800
    let finished = FinishedCount()
    let writers = Task {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<queued {
                group.addTask { try? await store.setItem("busy\(index)", "v"); await finished.add() }
            }
        }
    }
    try await Task.sleep(for: .milliseconds(200))
    let start = ContinuousClock.now
    let available = await store.isAvailable()
    let finishedBefore = await finished.count
    say("available=\(available) ms=\(milliseconds(since: start))")
    say("writes-queued=\(queued)")
    say("writes-finished-before=\(finishedBefore)")
    writers.cancel()
    exit(0)
case "impostor":
    #if canImport(CLibSecret)
    var error: UnsafeMutablePointer<GError>?
    guard let bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nil, &error) else { say("no bus"); exit(1) }
    _ = g_dbus_connection_add_filter(bus, answerEveryCallWithAString, nil, nil)
    var arguments = [g_variant_new_string("org.freedesktop.secrets"), g_variant_new_uint32(0)]
    let reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
        g_variant_new_tuple(&arguments, 2), nil, G_DBUS_CALL_FLAGS_NONE, -1, nil, &error)
    guard reply != nil else { say("RequestName failed"); exit(1) }
    say("owned")
    while true { sleep(60) }
    #else
    say("impostor needs GIO"); exit(2)
    #endif
case "memory-scan":
    // A live copy must be seen (the scan works), and after setBytes and getBytes whose arrays
    // are zeroed, the plaintext must be nowhere.
    let control = MemoryScan.Needle()
    var kept = control.plaintext()
    say("control=\(try MemoryScan.occurrences(of: control).count)")
    MemoryScan.zero(&kept)
    say("control-zeroed=\(try MemoryScan.occurrences(of: control).count)")
    let needle = MemoryScan.Needle()
    var value = needle.plaintext()
    try await store.setBytes("secret", value)
    MemoryScan.zero(&value)
    var readsOK = 0
    for _ in 0..<10 {
        guard var read = try await store.getBytes("secret") else { break }
        if read.count == 32 && read.withUnsafeBytes({ needle.matches($0, at: 0) }) { readsOK += 1 }
        MemoryScan.zero(&read)
    }
    try await store.deleteItem("secret")
    say("reads=\(readsOK)")
    let found = try MemoryScan.occurrences(of: needle)
    say("after=\(found.count) in=\(found.joined(separator: ","))")
case "reader":
    while let line = readLine() {
        let words = line.split(separator: " ").map(String.init)
        switch words.first {
        case "get" where words.count == 2:
            do {
                say("\(words[1]) \(try await store.getItem(words[1]) ?? "nil")")
            } catch {
                say("\(words[1]) !\(describe(error))")
            }
        case "delete" where words.count == 2:
            do {
                try await store.deleteItem(words[1])
                say("\(words[1]) deleted")
            } catch {
                say("\(words[1]) !\(describe(error))")
            }
        case "stats":
            #if canImport(CLibSecret)
            say("remembered=\(SecretServiceBackend.rememberedReads) lock-recalled=\(SecretServiceBackend.recalledLockStates)")
            #endif
        default:
            say("? \(line)")
        }
    }
case "watch", "watch-own-writes":
    let changes = try await store.changes()
    say("watching")
    if CommandLine.arguments[1] == "watch-own-writes" {
        let writer = try SecureStore(applicationID: application, userInteraction: interaction, timeout: timeout)
        // Standard input is read on a thread of its own, not the cooperative pool's; one
        // write at a time, in order.
        Thread.detachNewThread {
            while let line = readLine() {
                let words = line.split(separator: " ").map(String.init)
                guard words.count == 3, words[0] == "set" else { say("? \(line)"); continue }
                let written = DispatchSemaphore(value: 0)
                Task {
                    do { try await writer.setItem(words[1], words[2]) } catch { say("set \(words[1]) !\(describe(error))") }
                    written.signal()
                }
                written.wait()
            }
        }
    }
    for await change in changes {
        switch change {
        case .added(let key): say("added \(key)")
        case .changed(let key): say("changed \(key)")
        case .removed(let key): say("removed \(key)")
        case .locked: say("locked")
        case .unlocked: say("unlocked")
        case .serviceUnavailable: say("service-unavailable")
        case .serviceAvailable: say("service-available")
        }
    }
    say("ended")
case "writer":
    let tag = option("--tag", "p"), rounds = Int(option("--rounds", "10"))!, keys = Int(option("--keys", "5"))!
    var foreign = 0
    for round in 0..<rounds {
        for key in 0..<keys {
            try await store.setItem("shared\(key)", "\(tag)-\(round)")
            let read = try await store.getItem("shared\(key)")
            // Any writer's value has the shape TAG-ROUND with a round in range.
            if let read, let round = read.split(separator: "-").last.flatMap({ Int($0) }), (0..<rounds).contains(round) {} else { foreign += 1 }
        }
    }
    say("foreign=\(foreign)")
case "read-during-write":
    try await store.setItem("k", "old")
    let overwriting = Flag()
    let overwrite = Task {
        defer { overwriting.lower() }
        do {
            try await store.setItem("k", "new")
            return "ok"
        } catch {
            return describe(error)
        }
    }
    let (reads, foreign) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for _ in 0..<4 {
            group.addTask {
                var reads = 0, foreign = 0
                repeat {
                    let read = try await store.getItem("k")
                    reads += 1
                    if read != "old" && read != "new" { foreign += 1 }
                } while overwriting.isRaised
                return (reads, foreign)
            }
        }
        var total = (0, 0)
        for try await (reads, foreign) in group { total = (total.0 + reads, total.1 + foreign) }
        return total
    }
    say("write=\(await overwrite.value)")
    say("reads=\(reads)")
    say("foreign=\(foreign)")
default:
    say("usage: see the comment at the top of Tests/StressProbe/main.swift")
    exit(2)
}

/// Raised until lowered, once.
final class Flag: Sendable {
    private let raised = Mutex(true)
    var isRaised: Bool { raised.withLock { $0 } }
    func lower() { raised.withLock { $0 = false } }
}

/// How many of a group's tasks have finished.
actor FinishedCount {
    private(set) var count = 0
    func add() { count += 1 }
}
