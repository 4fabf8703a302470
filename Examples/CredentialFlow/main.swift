// The sign-in flow from Apple's "Using the keychain to manage user secrets", on Linux.
//
//   CredentialFlow serve --password-file FILE --port-file FILE
//       A test server on 127.0.0.1 that accepts user "alice" with the password in FILE
//       (read on every request, so changing FILE is changing the password server-side).
//   CredentialFlow login --server URL --user NAME
//       First run: no stored password, so it asks (no echo on a terminal), signs in, and stores
//       the password. Later runs: it signs in with the stored one without asking. If the server
//       rejects the stored password, it asks again and updates the stored item.
//   CredentialFlow logout --server URL --user NAME
//       Deletes the stored password.
//   CredentialFlow session --server URL --user NAME
//       Signs in with the stored password and stays signed in until that password is deleted,
//       from anywhere (`logout` in another process, `secret-tool clear`, Seahorse): then it signs
//       out. When the stored password changes, it signs in again with the new one.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecureStore

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// Says what happened, unbuffered, so a script reading our output sees each step at once.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CredentialFlow: \(message)\n".utf8))
    exit(1)
}

switch arguments.first {
case "serve":
    guard let passwordFile = option("--password-file"), let portFile = option("--port-file") else {
        fail("serve needs --password-file and --port-file")
    }
    try LoopbackServer(passwordFile: passwordFile).run(portFile: portFile)
case "login", "logout", "session":
    guard let server = option("--server"), let user = option("--user") else { fail("\(arguments[0]) needs --server and --user") }
    let flow = try CredentialFlow(server: server, user: user)
    switch arguments[0] {
    case "logout": try await flow.logout()
    case "session": try await flow.session()
    default: try await flow.login()
    }
default:
    fail("usage: CredentialFlow serve|login|logout ... (see the comment at the top of main.swift)")
}

/// The client side: a password kept in SecureStore, asked for only when needed.
struct CredentialFlow {
    let server: String
    let user: String
    let store: SecureStore
    let options: SecureStoreOptions

    init(server: String, user: String) throws {
        self.server = server
        self.user = user
        store = try SecureStore(applicationID: "dev.securestore.CredentialFlow")
        // One service per server, one key per account, as Apple's example keys items by server
        // and account.
        options = SecureStoreOptions(keychainService: server, keychainAccessible: .afterFirstUnlock)
    }

    func login() async throws {
        if let stored = try await store.getItem(user, options: options) {
            if try await signIn(password: stored) {
                say("signed in as \(user) with the stored password")
                return
            }
            say("the server rejected the stored password")
        } else {
            say("no stored password for \(user)")
        }
        let password = Terminal.readSecret(prompt: "Password for \(user) at \(server): ")
        guard try await signIn(password: password) else {
            say("sign-in failed; nothing stored")
            exit(2)
        }
        try await store.setItem(user, password, options: options)
        say("signed in as \(user); password stored")
    }

    func logout() async throws {
        try await store.deleteItem(user, options: options)
        say("signed out; stored password deleted")
    }

    /// Apple's "Handle changes gracefully": the stored credential may change or go while the
    /// app runs, so the session follows it.
    func session() async throws {
        // Listen first, so that nothing that happens after the sign-in is missed.
        let changes = try await store.changes(options: options)
        guard let stored = try await store.getItem(user, options: options), try await signIn(password: stored) else {
            fail("no stored password that the server accepts; run login first")
        }
        say("signed in as \(user); watching the stored password")
        for await change in changes {
            switch change {
            case .removed(key: user):
                say("the stored password was deleted; signed out")
                return
            case .changed(key: user), .added(key: user):
                guard let password = try await store.getItem(user, options: options) else { continue }
                guard try await signIn(password: password) else {
                    say("the server rejected the new stored password; signed out")
                    return
                }
                say("the stored password changed; signed in again")
            default:
                continue
            }
        }
        say("this keyring announces no changes (a sandbox's); stopped watching")
    }

    private func signIn(password: String) async throws -> Bool {
        guard let url = URL(string: server + "/login") else { fail("bad server URL \(server)") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode == 200
    }
}

enum Terminal {
    /// One line from standard input, with echo off when it is a terminal.
    static func readSecret(prompt: String) -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        guard isatty(STDIN_FILENO) == 1 else { return readLine() ?? "" }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine() ?? ""
    }
}
