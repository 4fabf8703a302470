#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@_exported import SecureStore

// Typed values: any Codable value, stored as JSON text. A module of its own because the JSON
// coder comes from FoundationEssentials (Foundation without its ICU data), which a program that
// links it pays for in size and at every start; the core library and the command need none of it.

extension SecureStore {
    /// Stores `value` under `key` as JSON text (`text/plain`, keys sorted), replacing any value
    /// (and accessibility) stored before. A token with its expiry date, say:
    ///
    /// ```swift
    /// struct Token: Codable { var value: String; var expires: Date }
    /// try await store.setValue("token", Token(value: "s3cr3t", expires: .now + 3600))
    /// let token = try await store.getValue("token", as: Token.self)
    /// ```
    ///
    /// - Throws: ``SecureStoreError/Code/encodingFailed`` when JSON cannot hold the value (a
    ///   `Double.nan`, say); nothing is stored.
    public func setValue(_ key: String, _ value: some Encodable, options: SecureStoreOptions = SecureStoreOptions()) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do {
            json = try encoder.encode(value)
        } catch {
            throw SecureStoreError(.encodingFailed, "A \(type(of: value)) could not be encoded as JSON: \(Self.describe(error)).")
        }
        // JSONEncoder writes UTF-8, so the string holds exactly these bytes.
        try await setItem(key, String(decoding: json, as: UTF8.self), options: options)
    }

    /// The value stored under `key`, decoded from JSON as `type`, or `nil` when there is none.
    ///
    /// - Throws: ``SecureStoreError/Code/decodingFailed`` when the item does not decode as
    ///   `type` (stored as another type, or by another program). The message names what did
    ///   not fit, never the value.
    public func getValue<Value: Decodable>(_ key: String, as type: Value.Type = Value.self, options: SecureStoreOptions = SecureStoreOptions()) async throws -> Value? {
        guard let bytes = try await getBytes(key, options: options) else { return nil }
        do {
            return try JSONDecoder().decode(Value.self, from: Data(bytes))
        } catch {
            throw SecureStoreError(.decodingFailed, "The item under '\(key)' is not a JSON \(Value.self): \(Self.describe(error)).")
        }
    }

    /// What went wrong, in words that name types, depth and the names of a type's own
    /// properties, but never a value: a DecodingError's own description may quote the JSON it
    /// choked on, and a dictionary's keys are part of the value.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let type, let context): return "expected \(type) \(path(context.codingPath))"
        case DecodingError.valueNotFound(let type, let context): return "no \(type) \(path(context.codingPath))"
        case DecodingError.keyNotFound(let key, let context): return "no key \(name(key)) \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context): return "not valid JSON, or an invalid value \(path(context.codingPath))"
        case EncodingError.invalidValue(let value, let context):
            return "a \(type(of: value)) JSON cannot hold \(path(context.codingPath))"
        default: return "\(type(of: error))"
        }
    }

    /// Where in the value, as `at a.*.b (depth 3)`: a property's name, `*` for anything else (an
    /// array index, or a dictionary's key).
    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "at the top level" : "at \(codingPath.map(name).joined(separator: ".")) (depth \(codingPath.count))"
    }

    /// A coding key's name when it is a property's: a synthesized `CodingKeys` case. Every other
    /// key (a dictionary's, an array's index, a custom key type's) may be data, so it shows as `*`.
    private static func name(_ key: any CodingKey) -> String {
        String(describing: type(of: key)) == "CodingKeys" ? "'\(key.stringValue)'" : "*"
    }
}
