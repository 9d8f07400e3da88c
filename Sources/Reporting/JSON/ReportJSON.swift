import CKDiffJSON
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
}
