import Foundation
import Safetensors

/// Validates JSON documents against the subset of JSON Schema (draft 2020-12) that ckdiff's schemas use.
///
/// Keywords: `type`, `const`, `enum`, `properties`, `required`, `additionalProperties`
/// (boolean or a schema), `propertyNames`, `items`, `minimum`, `pattern` (a string matches
/// when the regular expression is found in it), `anyOf`, and `$ref` to `#/$defs/…`. An unknown
/// keyword in the schema is itself a violation, so a schema cannot silently use
/// a rule this validator ignores. Documents are parsed with ckdiff's strict parser,
/// which keeps booleans, numbers and strings apart.
public struct JSONSchemaValidator {
    private let root: JSONObject

    public init(schemaPath: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: schemaPath)))
        guard case .object(let object) = try StrictJSONParser.parse(bytes) else {
            throw ValidationFailure(path: "$", message: "schema is not an object")
        }
        root = object
    }

    /// A violation, with the JSON path of the offending value.
    public struct ValidationFailure: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Every violation in `document` (empty when it is valid).
    public func violations(of document: Data) throws -> [ValidationFailure] {
        let value = try StrictJSONParser.parse([UInt8](document))
        var failures: [ValidationFailure] = []
        check(value, against: root, path: "$", into: &failures)
        return failures
    }

    private static let known: Set<String> = ["$schema", "$id", "title", "description", "type", "const", "enum",
                                             "properties", "required", "additionalProperties", "items", "minimum",
                                             "anyOf", "$ref", "$defs", "pattern", "propertyNames"]

    private func check(_ value: JSONValue, against schema: JSONObject, path: String, into failures: inout [ValidationFailure]) {
        for (key, _) in schema.members where !Self.known.contains(key) {
            failures.append(ValidationFailure(path: path, message: "schema keyword '\(key)' is not supported by the validator"))
        }
        if let ref = schema["$ref"]?.stringValue {
            let prefix = "#/$defs/"
            guard ref.hasPrefix(prefix), let target = root["$defs"]?.objectValue?[String(ref.dropFirst(prefix.count))]?.objectValue else {
                failures.append(ValidationFailure(path: path, message: "unresolvable $ref \(ref)"))
                return
            }
            check(value, against: target, path: path, into: &failures)
        }
        if let type = schema["type"]?.stringValue, !Self.matches(value, type: type) {
            failures.append(ValidationFailure(path: path, message: "expected \(type), found \(value.typeName)"))
            return
        }
        if let expected = schema["const"], !Self.equal(value, expected) {
            failures.append(ValidationFailure(path: path, message: "expected \(expected), found \(value)"))
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(where: { Self.equal(value, $0) }) {
            failures.append(ValidationFailure(path: path, message: "\(value) is not one of the allowed values"))
        }
        if let minimum = schema["minimum"]?.doubleValue, let number = value.doubleValue, number < minimum {
            failures.append(ValidationFailure(path: path, message: "\(number) is below the minimum \(minimum)"))
        }
        if let alternatives = schema["anyOf"]?.arrayValue {
            let passes = alternatives.contains { alternative in
                guard let alternative = alternative.objectValue else { return false }
                var trial: [ValidationFailure] = []
                check(value, against: alternative, path: path, into: &trial)
                return trial.isEmpty
            }
            if !passes { failures.append(ValidationFailure(path: path, message: "matches none of anyOf")) }
        }
        if case .object(let object) = value {
            let properties = schema["properties"]?.objectValue
            for required in schema["required"]?.arrayValue ?? [] {
                if let name = required.stringValue, object[name] == nil {
                    failures.append(ValidationFailure(path: path, message: "missing required '\(name)'"))
                }
            }
            var seen = Set<String>()
            for (name, member) in object.members {
                if !seen.insert(name).inserted {
                    failures.append(ValidationFailure(path: path, message: "duplicate member '\(name)'"))
                }
                if let names = schema["propertyNames"]?.objectValue {
                    check(.string(name), against: names, path: "\(path).\(name) (name)", into: &failures)
                }
                if let sub = properties?[name]?.objectValue {
                    check(member, against: sub, path: "\(path).\(name)", into: &failures)
                } else if schema["additionalProperties"] == .bool(false) {
                    failures.append(ValidationFailure(path: path, message: "unexpected member '\(name)'"))
                } else if let other = schema["additionalProperties"]?.objectValue {
                    check(member, against: other, path: "\(path).\(name)", into: &failures)
                }
            }
        }
        if let pattern = schema["pattern"]?.stringValue, case .string(let text) = value {
            let found = (try? NSRegularExpression(pattern: pattern))
                .map { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
            if found != true {
                failures.append(ValidationFailure(path: path, message: "'\(text)' does not match \(pattern)"))
            }
        }
        if case .array(let array) = value, let items = schema["items"]?.objectValue {
            for (i, element) in array.enumerated() {
                check(element, against: items, path: "\(path)[\(i)]", into: &failures)
            }
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
             ("number", .number):
            return true
        case ("integer", .number(let text)):
            return !text.contains(".") && !text.contains("e") && !text.contains("E")
        default:
            return false
        }
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number, .number): return a.doubleValue == b.doubleValue
        default: return a == b
        }
    }
}
