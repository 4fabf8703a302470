#if canImport(CLibSecret)
import CLibSecret
import Dispatch

/// Prompts run without blocking a thread. libsecret's own prompt (`secret_service_prompt_*`)
/// adds a match rule for the prompt's `Completed`, asks the bus to start the service, and
/// removes its rules once done: five bus calls, each waited for, around `Prompt`. A connection
/// whose bus has the signal rules (`hearsPrompts`) hears every `Completed` already.
extension SecretServiceConnection {
    /// Whether the service's `Prompt.Completed` signals reach this connection's filter: its bus
    /// has the signal rules that memories and streams use (`SecretServiceSignals.Selection.all`).
    var hearsPrompts: Bool {
        watchesAllSignals && openedWith != nil
    }

    /// Runs the prompt at `path` (`Prompt.Prompt`) and waits for its `Completed` from the daemon
    /// this connection was opened with, without blocking a thread; only where `hearsPrompts`.
    /// For prompts that show no dialog (KeePassXC's for `CreateItem` in an unlocked database):
    /// `timeout` without an answer throws a GLib timeout error, and the prompt is dismissed, as
    /// it is when the task is cancelled. A prompt dismissed (by the service or a person) is an
    /// outcome, not an error: what it means is the caller's to say, as with libsecret's.
    func runPrompt(at path: String, timeout: Duration) async throws -> PromptCompletions.Outcome {
        guard let owner = openedWith else { throw GLibError.protocolViolation("No daemon to ask") }
        let completion = ResumeOnce<PromptCompletions.Outcome>()
        PromptCompletions.await(path, from: owner) { completion.resume(with: .success($0)) }
        defer { PromptCompletions.forget(path) }
        let started = DispatchTime.now().uptimeNanoseconds
        let watchdog = Watchdog(timeout: timeout, idleNanoseconds: { DispatchTime.now().uptimeNanoseconds - started }) {
            completion.resume(with: .failure(GLibError(domain: GLibError.io, code: Int32(bitPattern: GLibError.ioTimedOut),
                                                       message: "The Secret Service's prompt did not complete in time")))
        }
        defer { watchdog.stop() }
        let outcome: PromptCompletions.Outcome
        do {
            try await call(path, "org.freedesktop.Secret.Prompt", "Prompt", GLibValues.tuple([g_variant_new_string("")]),
                           replyType: "()", timeout: timeout) { _ in }
            outcome = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { completion.attach($0) }
            } onCancel: {
                completion.resume(with: .failure(CancellationError()))
            }
        } catch {
            // A cancelled task cannot wait for the answer; otherwise it is waited for (a second
            // at most), so that the dismissal is sent before the caller goes on, or exits.
            if Task.isCancelled {
                dismissPrompt(at: path, timeout: timeout)
            } else {
                try? await call(path, "org.freedesktop.Secret.Prompt", "Dismiss", GLibValues.tuple([]), replyType: "()",
                                timeout: min(timeout, .seconds(1))) { _ in }
            }
            throw error
        }
        return outcome
    }

    /// `completeDeletion` without blocking a thread, where `hearsPrompts`: runs the prompt an
    /// `Item.Delete` of the item at `item` answered with; a dismissed prompt, or one after which
    /// the item is still there (older KeePassXC completes it as not dismissed whatever the person
    /// answered), throws ``GLibError/deleteNotConfirmed``. The service's `ItemDeleted` for the
    /// item, heard before the prompt completed, says it is gone; only without it is the item
    /// looked up.
    func completeDeletion(promptAt prompt: String, of item: String, timeout: Duration) async throws {
        let deletion = ItemDeletionWatch(of: item)
        defer { deletion.stop() }
        let dismissed = try await runPrompt(at: prompt, timeout: timeout).dismissed
        if !dismissed, deletion.wasHeard { return }
        if !dismissed, try await !itemExists(at: item, timeout: timeout) { return }
        throw GLibError.deleteNotConfirmed
    }

    /// Dismisses the prompt at `path` (it then makes nothing), without waiting for the answer.
    func dismissPrompt(at path: String, timeout: Duration) {
        Task {
            try? await call(path, "org.freedesktop.Secret.Prompt", "Dismiss", GLibValues.tuple([]), replyType: "()", timeout: timeout) { _ in }
        }
    }
}
#endif
