import CKDiffJSON
import Foundation
import Safetensors

/// Reads a JSON file ckdiff wrote earlier (a saved report, a baseline) and checks it before
/// Foundation's decoder sees it.
///
/// The file goes through ``SideFile`` (regular files only, never blocking, at most
/// ``SideFile/reportLimit`` bytes), then the strict parser (nesting at most 127 deep), then
/// ``check(_:path:)``: no member name twice in one object (Foundation would keep one silently)
/// and no integer beyond ±2^60, so any sum or difference of a few counts a renderer makes stays
/// within `Int` and a value such as an exit code of 2147483648 is refused with one line
/// instead of trapping in a conversion.
enum SavedJSON {
    /// The largest magnitude of an integer literal in a saved report or baseline: 2^60, an exabyte
    /// of parameters (seven such values still add up within `Int`). It is above 2^53 because a
    /// large finite statistic may be spelled as an integer (`9500000000000000`).
    static let integerLimit: UInt64 = 1 << 60

    /// Reads and checks the file at `path`; returns its bytes for the decoder.
    ///
    /// - Parameter what: What the file should be ("report", "baseline"), for messages.
    static func read(_ path: String, what: String) throws(PolicyError) -> Data {
        let bytes: [UInt8]
        do {
            bytes = try SideFile.read(path, limit: SideFile.reportLimit, what: what)
        } catch {
            throw PolicyError("\(path): cannot read the \(what): \(error.reason)")
        }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(bytes)
        } catch {
            throw PolicyError("\(path): not a ckdiff \(what): not valid JSON: \(error)")
        }
        if let problem = problem(in: root, at: "") {
            throw PolicyError("\(path): not a valid ckdiff \(what): \(problem)")
        }
        return Data(bytes)
    }

    /// The first problem in a parsed document (a repeated member name, an integer out of range),
    /// with the JSON path where it is, or nil.
    ///
    /// Recursion is bounded by the parser's nesting limit (127).
    static func problem(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .number(let text):
            guard isInteger(text) else { return nil }
            let digits = text.utf8.first == UInt8(ascii: "-") ? text.dropFirst() : Substring(text)
            if let magnitude = UInt64(digits), magnitude <= integerLimit { return nil }
            return "\(where: path)\(Printable.text(text, limit: 40)) is out of range (integers are at most 2^60 in magnitude)"
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let problem = problem(in: item, at: "\(path)[\(i)]") { return problem }
            }
            return nil
        case .object(let object):
            var seen = Set<String>()
            for (key, member) in object.members {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                guard seen.insert(key).inserted else {
                    return "\(where: path)member '\(Printable.text(key))' is given twice"
                }
                if let problem = problem(in: member, at: memberPath) { return problem }
            }
            return nil
        case .null, .bool, .string:
            return nil
        }
    }

    /// Whether a number literal is written as an integer (no fraction, no exponent).
    private static func isInteger(_ text: String) -> Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}

/// Reading a saved report (compare or batch) for `ckdiff show`.
public enum SavedReport {
    /// The bytes of the saved report at `path`, read and checked by ``SavedJSON`` (a regular file
    /// of at most 32 MiB, no member given twice, no integer beyond ±2^60).
    public static func read(_ path: String) throws(PolicyError) -> Data {
        try SavedJSON.read(path, what: "report")
    }
}

/// The exit status a saved report records, checked: 0, 1 or 2, nothing else.
///
/// `show` exits with it, so it is decoded into this type rather than converted from whatever
/// integer the file holds (2147483648 trapped in the conversion; 7 exited 7, -1 exited 255).
public enum RecordedExitStatus: Int32, Sendable {
    /// Equivalent (or every pair equivalent).
    case equivalent = 0
    /// Different, or a gate failed.
    case different = 1
    /// Trouble (a batch pair that could not be compared).
    case trouble = 2

    /// The status recorded as `value`, or an error naming `field` when it is not 0, 1 or 2.
    public init(checking value: Int, field: String) throws(PolicyError) {
        guard let status = RecordedExitStatus(rawValue: Int32(clamping: value)), Int(status.rawValue) == value else {
            throw PolicyError("\(field) is \(value); a ckdiff report records 0, 1 or 2")
        }
        self = status
    }
}

extension String.StringInterpolation {
    /// `at PATH: ` for a JSON path, or nothing at the top level.
    fileprivate mutating func appendInterpolation(where path: String) {
        if !path.isEmpty { appendLiteral("at \(Printable.text(path)): ") }
    }
}
