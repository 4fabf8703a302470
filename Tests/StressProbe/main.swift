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
import Foundation

let probe = try Probe()
if CommandLine.arguments.contains("--warm") { try await probe.warmUp() }

switch CommandLine.arguments.dropFirst().first {
case "file-write-killed": try await probe.writeToTheFileKeyringUntilKilled()
case "writes": try await probe.writeUntilResumed()
case "down": try await probe.callWhileDown()
case "cancel": try await probe.cancelACall()
case "available": await probe.sayWhetherAvailable()
case "bulk": try await probe.fillListAndDeleteAll()
case "write-once": await probe.writeOnce()
case "idle-restart": await probe.readAndWriteAfterIdleRestart()
case "busy-available": try await probe.askAvailabilityBehindQueuedWrites()
case "impostor": Impostor.run()
case "memory-scan": try await probe.scanMemory()
case "reader": await probe.readWhatStandardInputAsks()
case "watch": try await probe.watch(ownWrites: false)
case "watch-own-writes": try await probe.watch(ownWrites: true)
case "writer": try await probe.writeSharedKeys()
case "read-during-write": try await probe.readDuringAnOverwrite()
default:
    say("usage: see the comment at the top of Tests/StressProbe/main.swift")
    exit(2)
}
