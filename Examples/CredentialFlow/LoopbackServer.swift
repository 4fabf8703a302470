import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small HTTP server on 127.0.0.1 for the example: `POST /login` with Basic
/// authentication answers 200 for user "alice" with the current password, 401 otherwise.
struct LoopbackServer {
    let passwordFile: String

    func run(portFile: String) throws -> Never {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { fatalError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0                        // any free port
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { fatalError("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        try String(UInt16(bigEndian: address.sin_port)).write(toFile: portFile, atomically: true, encoding: .utf8)

        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            let status = authorized(request: readRequest(connection)) ? "200 OK" : "401 Unauthorized"
            let response = "HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = response.withCString { send(connection, $0, strlen($0), 0) }
            close(connection)
        }
    }

    private func readRequest(_ connection: Int32) -> String {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 65536 {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
            if String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    private func authorized(request: String) -> Bool {
        guard request.hasPrefix("POST /login "),
              let header = request.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("authorization: basic ") }),
              let decoded = Data(base64Encoded: String(header.dropFirst("authorization: basic ".count))),
              let password = try? String(contentsOfFile: passwordFile, encoding: .utf8)
        else { return false }
        return String(decoding: decoded, as: UTF8.self) == "alice:" + password.trimmingCharacters(in: .newlines)
    }
}
