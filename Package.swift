// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SecureStore",
    products: [
        .library(name: "SecureStore", targets: ["SecureStore"]),
        // Typed (Codable) values, as JSON: `import SecureStoreCodable`.
        .library(name: "SecureStoreCodable", targets: ["SecureStoreCodable"]),
        // The backend contract as checks any test can run against any backend: `import SecureStoreContract`.
        .library(name: "SecureStoreContract", targets: ["SecureStoreContract"]),
        .executable(name: "securestore", targets: ["securestore"]),
    ],
    // swift-log only, for diagnostics (see `SecureStore`'s `logger`). No swift-argument-parser:
    // it cost the command 5-8 ms at every start (see Sources/securestore/Arguments.swift).
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // libsecret and GLib, for the Secret Service backend and the sandbox's portal; and
        // libgcrypt (which libsecret itself loads), for the file keyring's cryptography.
        .systemLibrary(
            name: "CLibSecret",
            pkgConfig: "libsecret-1",
            providers: [.apt(["libsecret-1-dev", "libglib2.0-dev", "libgcrypt20-dev"])]
        ),
        .target(
            name: "SecureStore",
            dependencies: [
                .target(name: "CLibSecret", condition: .when(platforms: [.linux])),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Typed values on top of the core, with FoundationEssentials' JSON coder (see its file).
        .target(name: "SecureStoreCodable", dependencies: ["SecureStore"]),
        .target(name: "SecureStoreContract", dependencies: ["SecureStore"]),
        // The `securestore` command for shell scripts and the desktop session.
        .executableTarget(
            name: "securestore",
            // CLibSecret for its one process-wide setting that Swift cannot call (prctl).
            dependencies: ["SecureStore", .target(name: "CLibSecret", condition: .when(platforms: [.linux])),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The benchmark (Scripts/benchmark) and its baseline: libsecret's own calls, from C.
        .target(
            name: "CLibsecretBaseline",
            dependencies: [.target(name: "CLibSecret", condition: .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "SecureStoreBenchmark",
            dependencies: ["SecureStore", "CLibsecretBaseline"]
        ),
        .executableTarget(
            name: "QuickStart",
            dependencies: ["SecureStore"],
            path: "Examples/QuickStart"
        ),
        .executableTarget(
            name: "LockedKeyring",
            dependencies: ["SecureStore"],
            path: "Examples/LockedKeyring"
        ),
        .executableTarget(
            name: "CredentialFlow",
            dependencies: ["SecureStore"],
            path: "Examples/CredentialFlow"
        ),
        // A long-lived client that the fault and load tests drive while they kill or stop the daemon.
        .executableTarget(
            name: "StressProbe",
            // GIO directly, for the impostor service that answers the protocol wrongly.
            dependencies: ["SecureStore", .target(name: "CLibSecret", condition: .when(platforms: [.linux]))],
            path: "Tests/StressProbe"
        ),
        // How a user tests their own code with InMemoryBackend: a small library and its tests.
        .target(
            name: "TokenVault",
            dependencies: ["SecureStore"],
            path: "Examples/InMemoryTesting/Sources"
        ),
        .testTarget(
            name: "TokenVaultTests",
            dependencies: ["TokenVault", "SecureStore"],
            path: "Examples/InMemoryTesting/Tests"
        ),
        // How a backend of your own is held to the contract: a small backend and its test.
        .target(
            name: "DictionaryBackend",
            dependencies: ["SecureStore"],
            path: "Examples/BackendContract/Sources"
        ),
        .testTarget(
            name: "DictionaryBackendTests",
            dependencies: ["DictionaryBackend", "SecureStore", "SecureStoreContract"],
            path: "Examples/BackendContract/Tests"
        ),
        .testTarget(
            name: "SecureStoreTests",
            // The executables are run as subprocesses by the tests.
            dependencies: ["SecureStore", "SecureStoreCodable", "SecureStoreContract", .product(name: "Logging", package: "swift-log"), "securestore", "QuickStart", "LockedKeyring", "CredentialFlow", "StressProbe", "SecureStoreBenchmark"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
