import CKDiffJSON
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
    /// The compiled schema: each schema object read once, its keywords looked up once.
    private let compiled: Node

    public init(schemaPath: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: schemaPath)))
        guard case .object(let object) = try StrictJSONParser.parse(bytes) else {
            throw ValidationFailure(path: "$", message: "schema is not an object")
        }
        let definitions = object["$defs"]?.objectValue
        compiled = Node(object, definitions: definitions, cache: Node.Cache())
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
        compiled.check(value, path: Path.root, into: &failures)
        return failures
    }

    private static let known: Set<String> = ["$schema", "$id", "title", "description", "type", "const", "enum",
                                             "properties", "required", "additionalProperties", "items", "minimum",
                                             "anyOf", "$ref", "$defs", "pattern", "propertyNames"]

    /// A JSON path, spelled out only when a violation names it.
    private final class Path: Sendable {
        enum Step { case member(String), name(String), index(Int) }
        let parent: Path?
        let step: Step?

        static let root = Path(parent: nil, step: nil)

        init(parent: Path?, step: Step?) {
            self.parent = parent
            self.step = step
        }

        func appending(_ step: Step) -> Path { Path(parent: self, step: step) }

        /// `$`, `$.a.b`, `$.a[3]`, `$.a.b (name)`: the spelling the validator has always used.
        var text: String {
            guard let parent, let step else { return "$" }
            switch step {
            case .member(let name): return "\(parent.text).\(name)"
            case .name(let name): return "\(parent.text).\(name) (name)"
            case .index(let i): return "\(parent.text)[\(i)]"
            }
        }
    }

    /// One schema object with its keywords read out; `$ref` targets are shared nodes, resolved on first use.
    private final class Node {
        /// Nodes of `#/$defs/NAME`, built once each (schemas may be recursive).
        final class Cache {
            var definitions: [String: Node] = [:]
        }

        let unknownKeywords: [String]
        let ref: String?
        let type: String?
        let constant: JSONValue?
        let options: [JSONValue]?
        let minimum: Double?
        let anyOf: [JSONValue]?
        let properties: [String: JSONObject]?
        let required: [JSONValue]
        let additionalFalse: Bool
        let additional: JSONObject?
        let propertyNames: JSONObject?
        let pattern: String?
        let regex: NSRegularExpression?
        let items: JSONObject?
        private let definitions: JSONObject?
        private let cache: Cache
        private var children: [String: Node] = [:]
        private var alternatives: [Node]?

        init(_ schema: JSONObject, definitions: JSONObject?, cache: Cache) {
            self.definitions = definitions
            self.cache = cache
            unknownKeywords = schema.members.map(\.key).filter { !JSONSchemaValidator.known.contains($0) }
            ref = schema["$ref"]?.stringValue
            type = schema["type"]?.stringValue
            constant = schema["const"]
            options = schema["enum"]?.arrayValue
            minimum = schema["minimum"]?.doubleValue
            anyOf = schema["anyOf"]?.arrayValue
            if let object = schema["properties"]?.objectValue {
                var table: [String: JSONObject] = [:]
                for (name, value) in object.members {
                    // A later duplicate wins, as JSONObject's subscript reads it; a non-object is no schema.
                    table[name] = value.objectValue
                    if value.objectValue == nil { table.removeValue(forKey: name) }
                }
                properties = table
            } else {
                properties = nil
            }
            required = schema["required"]?.arrayValue ?? []
            additionalFalse = schema["additionalProperties"] == .bool(false)
            additional = schema["additionalProperties"]?.objectValue
            propertyNames = schema["propertyNames"]?.objectValue
            pattern = schema["pattern"]?.stringValue
            regex = pattern.flatMap { try? NSRegularExpression(pattern: $0) }
            items = schema["items"]?.objectValue
        }

        /// The node of a sub-schema, built on first use.
        private func child(_ key: String, _ schema: JSONObject) -> Node {
            if let node = children[key] { return node }
            let node = Node(schema, definitions: definitions, cache: cache)
            children[key] = node
            return node
        }

        /// The node `$ref` names, or nil when it cannot be resolved.
        private func resolved(_ ref: String) -> Node? {
            let prefix = "#/$defs/"
            guard ref.hasPrefix(prefix) else { return nil }
            let name = String(ref.dropFirst(prefix.count))
            if let node = cache.definitions[name] { return node }
            guard let target = definitions?[name]?.objectValue else { return nil }
            let node = Node(target, definitions: definitions, cache: cache)
            cache.definitions[name] = node
            return node
        }

        func check(_ value: JSONValue, path: Path, into failures: inout [ValidationFailure]) {
            for key in unknownKeywords {
                failures.append(ValidationFailure(path: path.text, message: "schema keyword '\(key)' is not supported by the validator"))
            }
            if let ref {
                guard let target = resolved(ref) else {
                    failures.append(ValidationFailure(path: path.text, message: "unresolvable $ref \(ref)"))
                    return
                }
                target.check(value, path: path, into: &failures)
            }
            if let type, !JSONSchemaValidator.matches(value, type: type) {
                failures.append(ValidationFailure(path: path.text, message: "expected \(type), found \(value.typeName)"))
                return
            }
            if let constant, !JSONSchemaValidator.equal(value, constant) {
                failures.append(ValidationFailure(path: path.text, message: "expected \(constant), found \(value)"))
            }
            if let options, !options.contains(where: { JSONSchemaValidator.equal(value, $0) }) {
                failures.append(ValidationFailure(path: path.text, message: "\(value) is not one of the allowed values"))
            }
            if let minimum, let number = value.doubleValue, number < minimum {
                failures.append(ValidationFailure(path: path.text, message: "\(number) is below the minimum \(minimum)"))
            }
            if let anyOf {
                if alternatives == nil {
                    alternatives = anyOf.map { $0.objectValue.map { Node($0, definitions: definitions, cache: cache) } }
                        .compactMap { $0 } // a non-object alternative never passes
                }
                let passes = (alternatives ?? []).contains { alternative in
                    var trial: [ValidationFailure] = []
                    alternative.check(value, path: path, into: &trial)
                    return trial.isEmpty
                }
                if !passes { failures.append(ValidationFailure(path: path.text, message: "matches none of anyOf")) }
            }
            if case .object(let object) = value {
                let names = Set(object.members.map(\.key))
                for required in required {
                    if let name = required.stringValue, !names.contains(name) {
                        failures.append(ValidationFailure(path: path.text, message: "missing required '\(name)'"))
                    }
                }
                var seen = Set<String>()
                for (name, member) in object.members {
                    if !seen.insert(name).inserted {
                        failures.append(ValidationFailure(path: path.text, message: "duplicate member '\(name)'"))
                    }
                    if let propertyNames {
                        child("propertyNames", propertyNames).check(.string(name), path: path.appending(.name(name)), into: &failures)
                    }
                    if let sub = properties?[name] {
                        child("properties/" + name, sub).check(member, path: path.appending(.member(name)), into: &failures)
                    } else if additionalFalse {
                        failures.append(ValidationFailure(path: path.text, message: "unexpected member '\(name)'"))
                    } else if let additional {
                        child("additionalProperties", additional).check(member, path: path.appending(.member(name)), into: &failures)
                    }
                }
            }
            if let pattern, case .string(let text) = value {
                let found = regex.map { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
                if found != true {
                    failures.append(ValidationFailure(path: path.text, message: "'\(text)' does not match \(pattern)"))
                }
            }
            if case .array(let array) = value, let items {
                let node = child("items", items)
                for (i, element) in array.enumerated() {
                    node.check(element, path: path.appending(.index(i)), into: &failures)
                }
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
