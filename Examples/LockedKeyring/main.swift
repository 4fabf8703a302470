// Reading secrets from a keyring that may be locked, the way Apple's guidance asks: involve the
// user only when needed, once, and recover when they say no.
//
//   LockedKeyring --app com.example.MyApp [--rounds N] [--timeout SECONDS] KEY...
//
// Each round reads every KEY at once. If the login keyring is locked, the desktop shows its
// unlock dialog once for all of them. A dismissed dialog fails that round's reads with
// ERR_AUTHENTICATION_CANCELED; the store stays usable, and the next round asks again.
// Prints one line per key and round: "round R KEY: VALUE" or "round R KEY: ERR_...".
import SecureStore

var applicationID = "dev.securestore.LockedKeyring"
var rounds = 1
var timeoutSeconds = 60
var keys: [String] = []
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--app": applicationID = arguments.next() ?? applicationID
    case "--rounds": rounds = arguments.next().flatMap(Int.init) ?? rounds
    case "--timeout": timeoutSeconds = arguments.next().flatMap(Int.init) ?? timeoutSeconds
    default: keys.append(argument)
    }
}

let store = try SecureStore(applicationID: applicationID, userInteraction: .allowed, timeout: .seconds(timeoutSeconds))
for round in 1...rounds {
    let lines = await withTaskGroup(of: String.self, returning: [String].self) { group in
        for key in keys {
            group.addTask {
                do {
                    return "round \(round) \(key): \(try await store.getItem(key) ?? "(none)")"
                } catch let error as SecureStoreError {
                    return "round \(round) \(key): \(error.code)"
                } catch {
                    return "round \(round) \(key): \(error)"
                }
            }
        }
        var lines: [String] = []
        for await line in group { lines.append(line) }
        return lines.sorted()
    }
    lines.forEach { print($0) }
}
