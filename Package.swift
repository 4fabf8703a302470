// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SecureStore",
    products: [
        .library(name: "SecureStore", targets: ["SecureStore"]),
    ],
    targets: [
        // libsecret and GLib, for the Secret Service backend. All calls into it live in
        // Sources/SecureStore/SecretService/.
        .systemLibrary(
            name: "CLibSecret",
            pkgConfig: "libsecret-1",
            providers: [.apt(["libsecret-1-dev", "libglib2.0-dev"])]
        ),
        .target(
            name: "SecureStore",
            dependencies: [
                .target(name: "CLibSecret", condition: .when(platforms: [.linux])),
            ]
        ),
        .executableTarget(
            name: "QuickStart",
            dependencies: ["SecureStore"],
            path: "Examples/QuickStart"
        ),
        .testTarget(
            name: "SecureStoreTests",
            dependencies: ["SecureStore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
