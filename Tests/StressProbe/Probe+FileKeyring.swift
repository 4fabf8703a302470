import Foundation
@_spi(SecureStoreInternal) import SecureStore

extension Probe {
    /// `file-write-killed`: a file keyring write that kills its own process at a given step.
    func writeToTheFileKeyringUntilKilled() async throws {
        let step = KeyringFile.WriteStep(rawValue: option("--step", ""))!
        KeyringFile.onWriteStep { reached in if reached == step { kill(getpid(), SIGKILL) } }
        let fileStore = SecureStore(backend: try FileKeyringBackend(
            applicationID: "killed", path: option("--keyring", ""), password: .file(option("--password-file", "")), timeout: timeout))
        try await fileStore.setItem("k", "new")
        say("not killed")
    }
}
