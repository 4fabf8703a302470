@_spi(SecureStoreInternal) import SecureStore
#if canImport(Glibc)
import Glibc
#endif

/// `securestore doctor`: which keyring a call would use here, why, and in what state, from
/// ``KeyringDiagnosis``. Reads no value, and prints no password.
enum Doctor {
    /// Prints the diagnosis and returns 0 when the keyring is usable, else the status a call
    /// would exit with.
    static func run(applicationID: String, location: KeyringLocation, timeout: Duration, reporter: Reporter) async -> Int32 {
        let diagnosis = await KeyringDiagnosis.diagnose(applicationID: applicationID, location: location, timeout: timeout)
        let printed = reporter.json
            ? Output.standardOutput(Output.json(json(diagnosis)))
            : lines(diagnosis).allSatisfy { Output.standardOutput(Output.visible($0)) }
        guard printed else { return SecureStoreCommand.reportOutputFailure(reporter) }
        return diagnosis.problem.map { SecureStoreCommand.exitStatus(for: $0.code) } ?? 0
    }

    static func lines(_ diagnosis: KeyringDiagnosis) -> [String] {
        var lines = ["keyring: \(diagnosis.keyring.rawValue): \(diagnosis.reason)",
                     "sandbox: \(diagnosis.sandbox ?? "no")",
                     "session bus: \(diagnosis.busProblem.map { "none (\($0))" } ?? "answers")"]
        switch diagnosis.secretService {
        case .success(let service)?:
            let process = service.processID.map { pid in
                ", process \(pid)" + (ProgramVersion.of(processID: pid).map { " (\($0))" } ?? "")
            } ?? ""
            let collection = service.defaultCollectionLocked.map { $0 ? "locked" : "unlocked" } ?? "none"
            lines.append("secret service: \(service.provider), owner \(service.owner)\(process); default collection: \(collection); transfer: \(service.transfer)")
        case .failure(let error)?: lines.append("secret service: none (\(error.code.rawValue): \(error.message))")
        case nil: break
        }
        switch diagnosis.portalVersion {
        case .success(let version)?: lines.append("secret portal: version \(version)")
        case .failure(let error)?: lines.append("secret portal: none (\(error.message))")
        case nil: break
        }
        switch diagnosis.keyringFile {
        case .success(let report)?:
            lines.append(report.exists
                ? "keyring file: \(report.path), mode \(octal(report.mode)), \(report.itemCount) items (its key check item included), \(report.unverifiableCount) that do not verify with this password"
                : "keyring file: \(report.path), not created yet (the first write creates it, mode 0600)")
        case .failure(let error)?: lines.append("keyring file: \(error.code.rawValue): \(error.message)")
        case nil: break
        }
        if let password = diagnosis.password {
            let file = password.path.map { path in ", \(path)" + (password.mode.map { ", mode \(octal($0))" } ?? ", missing") } ?? ""
            lines.append("password: \(password.source)\(file)" + (password.problem.map { " (\($0.message))" } ?? ""))
        }
        lines.append(diagnosis.problem.map { "status: not usable: \($0.code.rawValue): \($0.message)" } ?? "status: usable")
        return lines
    }

    static func json(_ diagnosis: KeyringDiagnosis) -> [String: Output.JSONValue] {
        func error(_ error: SecureStoreError) -> Output.JSONValue {
            .object(["error": .string(error.code.rawValue), "message": .string(error.message)])
        }
        var object: [String: Output.JSONValue] = [
            "keyring": .string(diagnosis.keyring.rawValue), "reason": .string(diagnosis.reason),
            "sandbox": diagnosis.sandbox.map(Output.JSONValue.string) ?? .null,
            "sessionBus": .object(["answers": .bool(diagnosis.busProblem == nil)]
                .merging(diagnosis.busProblem.map { ["problem": .string($0)] } ?? [:]) { $1 }),
            "usable": .bool(diagnosis.problem == nil),
            "problem": diagnosis.problem.map(error) ?? .null,
        ]
        switch diagnosis.secretService {
        case .success(let service)?:
            var described: [String: Output.JSONValue] = [
                "provider": .string(service.provider), "owner": .string(service.owner), "transfer": .string(service.transfer),
                "defaultCollection": .string(service.defaultCollectionLocked.map { $0 ? "locked" : "unlocked" } ?? "none"),
            ]
            if let pid = service.processID {
                described["processID"] = .number(Int(pid))
                described["version"] = ProgramVersion.of(processID: pid).map(Output.JSONValue.string) ?? .null
            }
            object["secretService"] = .object(described)
        case .failure(let failure)?: object["secretService"] = error(failure)
        case nil: break
        }
        switch diagnosis.portalVersion {
        case .success(let version)?: object["portal"] = .object(["version": .number(Int(version))])
        case .failure(let failure)?: object["portal"] = error(failure)
        case nil: break
        }
        switch diagnosis.keyringFile {
        case .success(let report)?:
            object["keyringFile"] = .object([
                "path": .string(report.path), "exists": .bool(report.exists), "mode": report.mode.map { .string(octal($0)) } ?? .null,
                "items": .number(report.itemCount), "itemsThatDoNotVerify": .number(report.unverifiableCount),
            ])
        case .failure(let failure)?: object["keyringFile"] = error(failure)
        case nil: break
        }
        if let password = diagnosis.password {
            object["password"] = .object([
                "source": .string(password.source), "path": password.path.map(Output.JSONValue.string) ?? .null,
                "mode": password.mode.map { .string(octal($0)) } ?? .null,
                "problem": password.problem.map(error) ?? .null,
            ])
        }
        return object
    }

    static func octal(_ mode: UInt32?) -> String {
        guard let mode else { return "unknown" }
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
