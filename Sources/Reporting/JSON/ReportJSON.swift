import Foundation

/// The JSON conventions every ckdiff report follows.
enum ReportJSON {
    /// `value` as JSON text: sorted keys, indented, unescaped slashes, a final newline
    /// (written by ``PrettyJSONEncoder``; the same JSON as Foundation's encoder with those options).
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        var bytes = try PrettyJSONEncoder().encode(value)
        bytes.append(0x0a)
        return Data(bytes)
    }

    /// `value` through Foundation's `JSONEncoder` with the same options, the reference the tests hold
    /// ``PrettyJSONEncoder`` to.
    static func foundationEncode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        return data
    }
}
