import Dispatch
import Testing
@testable import SecureStore
#if canImport(CLibSecret)

/// A batch's replies are decoded only while its caller waits: once the batch has ended, nothing
/// decodes with what the caller may release (its connection's transfer session, freed with the
/// connection). Without this, a reply decoded on GDBus's thread as the caller gave up on it
/// read a freed session key: a crash (the KWallet stress under AddressSanitizer).
@Suite("Pending replies")
struct PendingRepliesTests {
    @Test func aReplyThatComesAfterTheBatchEndedIsNotDecoded() async {
        let pending = PendingReplies<Int>(count: 2, router: .shared)
        await #expect(throws: CancellationError.self) {
            try await withCheckedThrowingContinuation { continuation in
                pending.attach(continuation)
                pending.fail(CancellationError())
            }
        }
        let decoded = Locked(false)
        pending.receive(at: 0) {
            decoded.withLock { $0 = true }
            return .success(1)
        }
        #expect(!decoded.withLock { $0 })
    }

    @Test func theBatchEndsOnlyOnceADecodingInProgressIsDone() async {
        let pending = PendingReplies<Int>(count: 1, router: .shared)
        let decoding = DispatchSemaphore(value: 0)
        let mayFinish = DispatchSemaphore(value: 0)
        let decoded = Locked(false)
        // GDBus's thread, in the middle of decoding the reply.
        DispatchQueue.global().async {
            pending.receive(at: 0) {
                decoding.signal()
                mayFinish.wait()
                decoded.withLock { $0 = true }
                return .success(1)
            }
        }
        // The caller gives up meanwhile, and would then release the connection. The decoding
        // is let finish a little later: a batch that ended at once would see it unfinished.
        let decodedWhenEnded = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                decoding.wait()
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { mayFinish.signal() }
                pending.fail(CancellationError())
                continuation.resume(returning: decoded.withLock { $0 })
            }
        }
        #expect(decodedWhenEnded)
    }
}
#endif
