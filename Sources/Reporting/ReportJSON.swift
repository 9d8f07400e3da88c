import Foundation

/// The JSON conventions every ckdiff report follows.
enum ReportJSON {
    /// `value` as JSON text: sorted keys, indented, unescaped slashes, a final newline.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        return data
    }
}
