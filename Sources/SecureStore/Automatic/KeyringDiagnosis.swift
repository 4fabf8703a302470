#if canImport(CLibSecret)
import Glibc

/// Which keyring a store would use here, and why, with what each candidate says of itself: what
/// `securestore doctor` prints. Diagnosing reads no item's value; it reads the password (to
/// check that it opens the keyring file) and never reports it.
@_spi(SecureStoreInternal)
public struct KeyringDiagnosis: Sendable {
    public enum Keyring: String, Sendable {
        case secretService = "secret-service", sandboxKeyring = "sandbox-keyring", fileKeyring = "file-keyring", none
    }

    /// A password's source and its file, as the file system shows them (the password unread).
    public struct Password: Sendable {
        public var source: String
        public var path: String?
        public var mode: UInt32?
        /// Why the password cannot be used, when it cannot.
        public var problem: SecureStoreError?
    }

    public var keyring: Keyring
    public var reason: String
    /// `Flatpak` or `Snap` inside a sandbox, else `nil`.
    public var sandbox: String?
    /// Why no session bus answers; `nil` when one does.
    public var busProblem: String?
    /// Asked outside a sandbox, and inside one for ``KeyringLocation/secretService``.
    public var secretService: Result<SecretServiceDescription, SecureStoreError>?
    /// Asked inside a sandbox.
    public var portalVersion: Result<UInt32, SecureStoreError>?
    /// The file keyring's report, for a file or sandbox keyring.
    public var keyringFile: Result<FileKeyringReport, SecureStoreError>?
    public var password: Password?
    /// What a call would throw; `nil` when the keyring is usable.
    public var problem: SecureStoreError?

    /// Diagnoses `location` for `applicationID`, each step bounded by `timeout` (a store's
    /// own: a machine busy enough to slow the calls slows the diagnosis alike).
    public static func diagnose(applicationID: String, location: KeyringLocation = .automatic,
                                timeout: Duration = .seconds(30)) async -> KeyringDiagnosis {
        let sandbox = access("/.flatpak-info", F_OK) == 0 ? "Flatpak" : getenv("SNAP_NAME") != nil ? "Snap" : nil
        var diagnosis = KeyringDiagnosis(keyring: .none, reason: "", sandbox: sandbox,
                                         busProblem: await SecretServiceBackend.sessionBusProblem(timeout: timeout))
        do {
            switch location {
            case .file(let path, let password):
                diagnosis.keyring = .fileKeyring
                diagnosis.reason = "a keyring file was named (--keyring-file, or KeyringLocation.file)"
                await diagnosis.inspect(try FileKeyringBackend(applicationID: applicationID, path: path, password: password, timeout: timeout))
            case .sandboxKeyring:
                diagnosis.keyring = .sandboxKeyring
                diagnosis.reason = "the sandbox keyring was asked for"
                await diagnosis.inspectSandbox(applicationID: applicationID, timeout: timeout)
            case .automatic where sandbox != nil:
                diagnosis.keyring = .sandboxKeyring
                diagnosis.reason = sandbox == "Flatpak" ? "this is a Flatpak sandbox (/.flatpak-info exists)" : "this is a Snap sandbox (SNAP_NAME is set)"
                await diagnosis.inspectSandbox(applicationID: applicationID, timeout: timeout)
            case .secretService:
                diagnosis.keyring = .secretService
                diagnosis.reason = "the Secret Service was asked for"
                await diagnosis.describe(try SecretServiceBackend(applicationID: applicationID, timeout: timeout))
                diagnosis.problem = diagnosis.secretServiceError
            case .automatic:
                try await diagnosis.decideAutomatically(applicationID: applicationID, timeout: timeout)
            }
        } catch {
            diagnosis.problem = error as? SecureStoreError ?? SecureStoreError(.keyChain, "\(error)")
        }
        return diagnosis
    }

    /// ``AutomaticBackend``'s choice, made the same way.
    private mutating func decideAutomatically(applicationID: String, timeout: Duration) async throws {
        let fallback = try FallbackKeyringFile.fromEnvironment()
        let secretService = try SecretServiceBackend(applicationID: applicationID, timeout: timeout)
        await describe(secretService)
        if case .failure(let error) = self.secretService, error.code == .serviceUnavailable {
            let none = "no Secret Service answers (\(error.message))"
            guard let fallback else {
                keyring = .none
                reason = "\(none), and \(FallbackKeyringFile.fileVariable) is not set"
                problem = SecureStoreError(.serviceUnavailable, error.message + " " + FallbackKeyringFile.hint)
                return
            }
            keyring = .fileKeyring
            reason = "\(none), and \(FallbackKeyringFile.fileVariable) names a keyring file"
            await inspect(try FileKeyringBackend(applicationID: applicationID, path: fallback.path, password: fallback.password, timeout: timeout))
        } else {
            keyring = .secretService
            reason = "a Secret Service answers on the session bus"
            problem = secretServiceError
            if fallback != nil { reason += " (\(FallbackKeyringFile.fileVariable) is used only where none does)" }
        }
    }

    private mutating func describe(_ secretService: SecretServiceBackend) async {
        do {
            self.secretService = .success(try await secretService.describeService())
        } catch {
            self.secretService = .failure(error as? SecureStoreError ?? SecureStoreError(.keyChain, "\(error)"))
        }
    }

    private var secretServiceError: SecureStoreError? {
        if case .failure(let error) = secretService { error } else { nil }
    }

    private mutating func inspectSandbox(applicationID: String, timeout: Duration) async {
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000)
        do {
            portalVersion = .success(try await BlockingWorkers.shared.run(timeout: timeout) { _ in
                try PortalSecret.version(timeoutMilliseconds: milliseconds)
            })
        } catch {
            portalVersion = .failure(error as? SecureStoreError ?? SecureStoreError(.keyChain, "\(error)"))
        }
        do {
            await inspect(try SandboxKeyringBackend(applicationID: applicationID, timeout: timeout).fileKeyring)
        } catch {
            problem = error as? SecureStoreError
        }
    }

    private mutating func inspect(_ file: FileKeyringBackend) async {
        password = Self.describe(file.password)
        do {
            let report = try await file.inspect()
            keyringFile = .success(report)
            if !report.keyOpens {
                problem = SecureStoreError(.keyChain, "The password opens none of the items in \(file.path).")
            }
        } catch {
            let error = error as? SecureStoreError ?? SecureStoreError(.keyChain, "\(error)")
            keyringFile = .failure(error)
            problem = error
        }
    }

    /// The password's source and its file's mode, from `lstat`: the password is not read.
    static func describe(_ password: KeyringPassword) -> Password {
        var described = Password(source: password.description)
        do {
            guard let path = try password.path() else { return described }
            described.path = path
            var status = stat()
            if lstat(path, &status) == 0 { described.mode = UInt32(status.st_mode & 0o7777) }
        } catch {
            described.problem = error
        }
        return described
    }
}
#endif
