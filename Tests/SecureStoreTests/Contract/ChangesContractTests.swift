import Foundation
import Synchronization
import Testing
@testable import SecureStore

/// The rules of `changes(options:)`, once for every backend that observes changes. Serialized:
/// the Secret Service's listeners are counted process-wide.
@Suite("Backend contract: changes", .serialized, TestSelection(), .tags(.everyProvider, .sandbox, .headless))
struct ChangesContractTests {
    /// What a stream yielded so far, collected by a task of its own.
    final class Collected: Sendable {
        let changes = Mutex<[SecureStoreChange]>([])

        /// Waits (up to 60 s: under the whole suite's load one daemon answers slowly) until
        /// `predicate` holds for what was collected.
        func wait(for predicate: ([SecureStoreChange]) -> Bool) async -> [SecureStoreChange] {
            for _ in 0..<1200 {
                let now = changes.withLock { $0 }
                if predicate(now) { return now }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return changes.withLock { $0 }
        }
    }

    @Test(arguments: BackendKind.allCases.filter { $0 != .sandboxKeyring })
    func changesNameTheKeysOfOtherStoresWritesAndDeletesOnly(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let watcher = fixture.store(), writer = fixture.store()
            let stream = try await watcher.changes()
            let collected = Collected()
            let consumer = Task { for await change in stream { collected.changes.withLock { $0.append(change) } } }
            defer { consumer.cancel() }

            try await writer.setItem("elsewhere", "x", options: SecureStoreOptions(keychainService: "other"))
            try await fixture.store("other-app").setItem("k", "x")
            try await writer.setItem("k", "one")
            var seen = await collected.wait { $0.contains(.added(key: "k")) }
            #expect(seen.first == .added(key: "k"), "\(seen)")
            // KeePassXC (once, under load) and KWallet (with other clients busy) may show an
            // overwrite as a removal and an addition: see docs/changes.md.
            let provider = ProcessInfo.processInfo.environment["SECURESTORE_PROVIDER"] ?? ""
            let overwriteMayRemove = kind == .secretService && ["keepassxc", "kwallet"].contains(provider)
            // A new value for the same item (GNOME Keyring does not announce Item.SetSecret).
            try await writer.setItem("k", "one again")
            seen = await collected.wait { $0.contains(.changed(key: "k")) }
            #expect(seen.contains(.changed(key: "k")) && (overwriteMayRemove || !seen.contains(.removed(key: "k"))), "\(seen)")
            collected.changes.withLock { $0.removeAll() }
            try await writer.setItem("k", "two", options: SecureStoreOptions(keychainAccessible: .afterFirstUnlock))
            seen = await collected.wait { $0.contains(.changed(key: "k")) }
            #expect(seen.contains(.changed(key: "k")) && (overwriteMayRemove || !seen.contains(.removed(key: "k"))), "\(seen)")
            // What the overwrites announce may still be coming: a marker written after them is
            // heard after them (a service sends its signals in order), so once it is heard they
            // are too. A provider may announce the new marker twice (created, then changed when
            // its secret is set: KeePassXC), and the second may come after the wait, so the
            // marker's own key is left out of what the delete is checked against.
            try await writer.setItem("marker", "x")
            let marker = await collected.wait { $0.contains(.added(key: "marker")) || $0.contains(.changed(key: "marker")) }
            #expect(marker.contains(.added(key: "marker")) || marker.contains(.changed(key: "marker")), "\(marker)")
            collected.changes.withLock { $0.removeAll() }
            try await writer.deleteItem("k")
            seen = await collected.wait { $0.contains(.removed(key: "k")) }
            let heard = seen.filter { $0 != .added(key: "marker") && $0 != .changed(key: "marker") }
            #expect(heard.last == .removed(key: "k") || overwriteMayRemove, "\(seen)")
            #expect(Set(heard).isSubset(of: [.added(key: "k"), .changed(key: "k"), .removed(key: "k")]), "no other key, no other service: \(seen)")
            try await fixture.cleanUp()
        }
    }

    /// A stream watching one spelling of a service hears nothing of a canonically equivalent one.
    /// Changes come in order, so a write to the watched service, once heard, is a barrier:
    /// everything before it was handled. A provider may announce a new item twice (created,
    /// then changed when its secret is set: KeePassXC, and GNOME Keyring under load), and the
    /// second announcement of a barrier may come after the wait for it ended, so the barriers'
    /// own keys are left out of what each step checks.
    @Test(arguments: BackendKind.allCases.filter { $0 != .sandboxKeyring })
    func aStreamHearsOnlyItsServicesExactName(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let watched = SecureStoreOptions(keychainService: "cafe\u{301}")
            let lookAlike = SecureStoreOptions(keychainService: "caf\u{E9}")
            let stream = try await fixture.store().changes(options: watched)
            let collected = Collected()
            let consumer = Task { for await change in stream { collected.changes.withLock { $0.append(change) } } }
            defer { consumer.cancel() }
            let writer = fixture.store()
            let barriers: Set<String> = ["first", "second", "end"]
            func heardOfK(_ seen: [SecureStoreChange]) -> [SecureStoreChange] {
                seen.filter { change in
                    switch change {
                    case .added(let key), .changed(let key), .removed(let key): !barriers.contains(key)
                    default: true
                    }
                }
            }
            // A new item in the look-alike service: nothing.
            try await writer.setItem("k", "look-alike", options: lookAlike)
            try await writer.setItem("first", "x", options: watched)
            var seen = await collected.wait { $0.contains(.added(key: "first")) }
            #expect(heardOfK(seen) == [], "\(seen)")
            // The watched key itself.
            collected.changes.withLock { $0.removeAll() }
            try await writer.setItem("k", "watched", options: watched)
            try await writer.setItem("second", "x", options: watched)
            seen = await collected.wait { $0.contains(.added(key: "second")) }
            let k = heardOfK(seen)
            #expect(k.first == .added(key: "k") && Set(k).isSubset(of: [.added(key: "k"), .changed(key: "k")]), "\(seen)")
            // An overwrite in the look-alike service: nothing.
            collected.changes.withLock { $0.removeAll() }
            try await writer.setItem("k", "look-alike again", options: lookAlike)
            try await writer.setItem("end", "x", options: watched)
            seen = await collected.wait { $0.contains(.added(key: "end")) }
            #expect(heardOfK(seen) == [], "\(seen)")
        }
    }

    @Test(arguments: BackendKind.allCases.filter { $0 != .sandboxKeyring })
    func cancellingTheIteratingTaskEndsTheStreamAndFreesIt(kind: BackendKind) async throws {
        try await withFixture(kind) { fixture async throws in
            let backend = fixture.backend()
            func openWatches() -> Int {
                switch kind {
                case .inMemory: (backend as! InMemoryBackend).keyring.watcherCount
                case .fileKeyring, .sandboxKeyring: KeyringWatch.count
                case .secretService: SecretServiceSignals.listenerCount
                }
            }
            let before = openWatches()
            let stream = try await SecureStore(backend: backend).changes()
            let consumer = Task { for await _ in stream {}; return true }
            consumer.cancel()
            #expect(await consumer.value)
            var after = Int.max
            for _ in 0..<100 {
                after = openWatches()
                if after <= before { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(after <= before)
        }
    }

    /// An item announced again in one batch is handled once, unless it was deleted in between
    /// (then its return is news). KWallet sends every signal twice.
    @Test func repeatedAnnouncementsInOneBatchAreHandledOnce() {
        let a = "/org/freedesktop/secrets/collection/kdewallet/1", b = "/org/freedesktop/secrets/collection/kdewallet/2"
        let batch: [SecretServiceSignal] = [
            .itemCreated(a), .itemCreated(a), .itemChanged(a), .itemChanged(b), .collectionChanged, .collectionChanged,
            .itemChanged(b), .itemDeleted(a), .itemDeleted(a), .itemCreated(a),
        ]
        #expect(ChangeWatch.withoutRepeats(batch) == [
            .itemCreated(a), .itemChanged(b), .collectionChanged, .collectionChanged, .itemDeleted(a), .itemDeleted(a), .itemCreated(a),
        ])
    }

    /// However many signals the service sends between two batches, a stream holds at most
    /// `SignalQueue.capacity`; past that it drops them and learns the watched items anew.
    @Test func theSignalQueueIsBounded() {
        var queue = SignalQueue()
        for index in 0..<SignalQueue.capacity { queue.append(.itemChanged("/org/freedesktop/secrets/collection/login/\(index)")) }
        #expect(queue.count == SignalQueue.capacity)
        queue.append(.collectionChanged)
        queue.append(.collectionChanged)
        #expect(queue.count == 0)
        let (batch, overflowed) = queue.take()
        #expect(batch.isEmpty && overflowed)
        queue.append(.collectionChanged)
        #expect(queue.take() == ([.collectionChanged], false))
    }

    /// A consumer that stalls holds at most the stream's buffer; what it missed meanwhile is
    /// told once it makes room: keys added and removed since, and the lock's state.
    @Test func aStalledConsumerHoldsABoundedBufferAndIsToldWhatItMissed() async {
        let (stream, output) = AsyncStream.makeStream(of: SecureStoreChange.self, bufferingPolicy: .bufferingOldest(3))
        var delivery = ChangeDelivery(output)
        delivery.startFrom(keys: ["gone"], isLocked: false)
        for key in ["a", "b", "c", "d", "e"] { delivery.report(.added(key: key)) }
        #expect(delivery.fellBehind)
        delivery.report(.removed(key: "gone"))
        var iterator = stream.makeAsyncIterator()
        var received: [SecureStoreChange] = []
        for _ in 0..<3 { received.append(await iterator.next()!) }
        #expect(received == [.added(key: "a"), .added(key: "b"), .added(key: "c")])
        // Meanwhile "gone" and "c" were removed, and the keyring was locked.
        delivery.catchUp(keys: ["a", "b", "d", "e"], isLocked: true, serviceIsUp: true)
        received = []
        for _ in 0..<3 { received.append(await iterator.next()!) }
        #expect(received == [.locked, .removed(key: "c"), .removed(key: "gone")])
        // The buffer was full again: the rest comes at the next catch-up.
        #expect(delivery.fellBehind)
        delivery.catchUp(keys: ["a", "b", "d", "e"], isLocked: true, serviceIsUp: true)
        received = []
        for _ in 0..<2 { received.append(await iterator.next()!) }
        #expect(received == [.added(key: "d"), .added(key: "e")])
        #expect(!delivery.fellBehind)
        output.finish()
        #expect(await iterator.next() == nil)
    }

    /// A batch is handled 10 ms after its latest signal, and at most 30 ms after its first,
    /// both counted from when the signals arrived (while the previous batch was handled, too).
    @Test func aBatchIsGatheredTenMillisecondsAfterItsLatestSignalAndAtMostThirtyAfterItsFirst() {
        var queue = SignalQueue()
        #expect(queue.gathered == nil)
        let start = ContinuousClock.now
        queue.append(.collectionChanged, at: start)
        #expect(queue.gathered == start + .milliseconds(10))
        queue.append(.collectionChanged, at: start + .milliseconds(8))
        #expect(queue.gathered == start + .milliseconds(18))
        // Churn: a signal every 8 ms never leaves 10 ms of quiet.
        for step in 2...10 { queue.append(.collectionChanged, at: start + .milliseconds(8 * step)) }
        #expect(queue.gathered == start + .milliseconds(30))
        _ = queue.take()
        #expect(queue.gathered == nil)
    }

    /// Outside a sandbox there is no sandbox keyring to watch: no stream, a typed error.
    @Test func theSandboxKeyringIsNotWatchedOutsideASandbox() async throws {
        guard !SandboxKeyringBackend.isSandboxed else { return }
        let error = await secureStoreError { _ = try await SandboxKeyringBackend(applicationID: "changes-test").changes(options: SecureStoreOptions()) }
        #expect(error?.code == .serviceUnavailable)
    }

    @Test func anInMemoryKeyringReportsLocksAndOutages() async throws {
        let keyring = InMemoryBackend.Keyring()
        let stream = try await SecureStore(backend: InMemoryBackend(keyring: keyring)).changes()
        let collected = Collected()
        let consumer = Task { for await change in stream { collected.changes.withLock { $0.append(change) } } }
        defer { consumer.cancel() }
        keyring.isLocked = true
        keyring.isLocked = false
        keyring.simulatedError = SecureStoreError(.serviceUnavailable, "gone")
        keyring.simulatedError = nil
        let seen = await collected.wait { $0.count >= 4 }
        #expect(seen == [.locked, .unlocked, .serviceUnavailable, .serviceAvailable])
    }
}
