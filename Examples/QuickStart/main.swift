// The smallest real SecureStore program: set, get, overwrite, delete, with options.
// Run it with `Scripts/quickstart` (it finds or starts a Secret Service for you).
import SecureStore

let store = try SecureStore(applicationID: "dev.securestore.QuickStart")
let options = SecureStoreOptions(keychainService: "quickstart", keychainAccessible: .afterFirstUnlock)

try await store.setItem("apiToken", "first-token", options: options)
print("set apiToken")
print("get apiToken ->", try await store.getItem("apiToken", options: options) ?? "nil")

try await store.setItem("apiToken", "second-token", options: options)
print("overwrote apiToken")
print("get apiToken ->", try await store.getItem("apiToken", options: options) ?? "nil")
print("keys in service 'quickstart':", try await store.allKeys(options: options))

try await store.deleteItem("apiToken", options: options)
print("deleted apiToken")
print("get apiToken ->", try await store.getItem("apiToken", options: options) ?? "nil")

do {
    try await store.setItem("not a valid key!", "x")
} catch let error as SecureStoreError {
    print("invalid key ->", error.code)
}
