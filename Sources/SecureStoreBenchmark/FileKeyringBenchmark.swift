// The file keyring against libsecret's own file backend, at 10, 100 and 1,000 items: each side
// on a keyring file of its own with the same password (libsecret through
// SECRET_BACKEND=file, SECRET_FILE_TEST_PATH and SECRET_FILE_TEST_PASSWORD, set before its first
// call), calls interleaved one for one. In a sandbox (`--sandbox`), SecureStore's side is the
// sandbox keyring, with the portal's key.
import CLibsecretBaseline
import Foundation
import SecureStore
#if canImport(Glibc)
import Glibc
#endif

func fileKeyringBenchmark(iterations: Int, inSandbox: Bool) async throws {
    let folder = NSTemporaryDirectory() + "/securestore-benchmark-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let password = "benchmark password"
    _ = FileManager.default.createFile(atPath: folder + "/password", contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
    setenv("SECRET_BACKEND", "file", 1)
    setenv("SECRET_FILE_TEST_PATH", folder + "/libsecret.keyring", 1)
    setenv("SECRET_FILE_TEST_PASSWORD", password, 1)
    let backend: any SecureStoreBackend = inSandbox
        ? try SandboxKeyringBackend(applicationID: application, timeout: .seconds(60))
        : try FileKeyringBackend(applicationID: application, path: folder + "/securestore.keyring", password: .file(folder + "/password"),
                                 timeout: .seconds(60))
    let ours = SecureStore(backend: backend)
    let value = "benchmark value 🔑 0123456789abcdef"
    print("SecureStore benchmark, file keyring\(inSandbox ? " in a sandbox (portal key)" : " (password file)") against libsecret's file backend — \(iterations) calls per row; p50 / p90 / p99")
    print("")
    print("| items | operation | libsecret (C) | SecureStore | ratio p50 | CPU per call, libsecret → SecureStore |")
    print("| --- | --- | --- | --- | --- | --- |")
    var filled = 0
    for size in [10, 100, 1000] {
        // Both keyrings hold `size` items; the rows read and overwrite them.
        while filled < size {
            require(baseline_store(application, service, "fill-\(filled)", value), "store")
            try await ours.setItem("fill-\(filled)", value, options: options)
            filled += 1
        }
        let (rawGet, get) = try await measurePair(iterations,
            raw: { var found: Int32 = 0; require(baseline_lookup(application, service, "fill-\($0 % size)", &found), "lookup") },
            wrapped: { _ = try await ours.getItem("fill-\($0 % size)", options: options) })
        let (rawSet, set) = try await measurePair(iterations,
            raw: { require(baseline_store(application, service, "fill-\($0 % size)", value), "store") },
            wrapped: { try await ours.setItem("fill-\($0 % size)", value, options: options) })
        for (name, raw, wrapped) in [("getItem (hit)", rawGet, get), ("setItem (overwrite)", rawSet, set)] {
            let cells = [raw, wrapped].map { "\(format($0.p50)) / \(format($0.p90)) / \(format($0.p99))" }
            print("| \(size) | \(name) | \(cells[0]) | \(cells[1]) | \(String(format: "%.3fx", wrapped.p50 / raw.p50)) | \(format(raw.cpu ?? 0)) → \(format(wrapped.cpu ?? 0)) |")
        }
    }
    try await changeLag(ours, count: iterations)
    try await ours.deleteAll(options: options)
}

/// How long after a write returns a `changes(options:)` stream reports it: the stream hears
/// the rename through inotify and reads the file (here a writer in the same process; another
/// process's rename is the same event).
private func changeLag(_ store: SecureStore, count: Int) async throws {
    let stream = try await store.changes(options: options)
    let (heard, hear) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
    let listener = Task {
        for await change in stream {
            if case .added(let key) = change, key.hasPrefix("lag-") { hear.yield(.now) }
        }
    }
    defer { listener.cancel() }
    var iterator = heard.makeAsyncIterator()
    var samples: [Double] = []
    for index in 0..<count {
        try await store.setItem("lag-\(index)", "x", options: options)
        let written = ContinuousClock.now
        guard let reported = await iterator.next() else { break }
        samples.append(max(0, microseconds(reported - written)))   // heard before the call returned: 0
    }
    let lag = Percentiles(samples)
    print("")
    print("changes(options:) reported each of \(samples.count) writes (at 1,000 items) \(format(lag.p50)) / \(format(lag.p90)) / \(format(lag.p99)) (p50 / p90 / p99) after the write returned.")
}
