import CKDiffJSON
import Checkpoints
import Comparison
import Foundation
import Safetensors

/// One layer of policy settings (a file, a manifest entry, the command line), applied over the layers below.
///
/// Absent settings leave the lower layer's in place. Per-dtype and per-component tolerances
/// replace the lower layer's entry of the same name; key globs are tried before the lower
/// layer's; a fail-on list (`failOn`) replaces the lower layer's (write `default` in it to keep the
/// defaults), and `failOnAdded` is then appended to whatever list is in force.
public struct PolicyLayer: Sendable, Equatable {
    public var tolerance: Tolerance?
    public var dtypes: [String: Tolerance] = [:]
    public var components: [String: Tolerance] = [:]
    public var keys: [Policy.KeyRule] = []
    /// A fail-on list that replaces the lower layers' (a file's `fail_on`, the command line's `only:`).
    public var failOn: [String]?
    /// Fail-on entries added to the list in force (the command line's `--fail-on X` and `+X`).
    public var failOnAdded: [String] = []
    /// Where the layer came from, recorded in the report (`file:PATH`, `command line`, …).
    public var source: String

    public init(source: String) {
        self.source = source
    }

    /// Whether the layer sets anything.
    public var isEmpty: Bool {
        tolerance == nil && dtypes.isEmpty && components.isEmpty && keys.isEmpty && failOn == nil && failOnAdded.isEmpty
    }
}

/// A policy file or setting that cannot be used; its description is one line naming the file.
///
/// Also the error of the other side files (baselines, manifests, saved reports). Keys and values
/// echoed from the file pass through ``Printable/line(_:)``: control characters become `?` and
/// the line is cut at 8,192 characters.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = Printable.line(description)
    }
}

extension Policy {
    /// This policy with `layer` applied over it.
    public func applying(_ layer: PolicyLayer) -> Policy {
        guard !layer.isEmpty else { return self }
        var result = self
        if let tolerance = layer.tolerance { result.tolerance = tolerance }
        result.dtypes.merge(layer.dtypes) { _, new in new }
        result.components.merge(layer.components) { _, new in new }
        result.keys = layer.keys + result.keys
        if let failOn = layer.failOn { result.failOn = failOn }
        for entry in layer.failOnAdded where !result.failOn.contains(entry) { result.failOn.append(entry) }
        result.sources.append(layer.source)
        return result
    }

    /// Reads a policy file (JSON, `docs/policy.md`).
    ///
    /// Through ``SideFile``: a regular file of at most 1 MiB; a FIFO or device is refused without blocking.
    public static func layer(fromFile path: String) throws(PolicyError) -> PolicyLayer {
        let bytes: [UInt8]
        do {
            bytes = try SideFile.read(path, limit: SideFile.settingsLimit, what: "policy file")
        } catch {
            throw PolicyError("\(path): cannot read the policy file: \(error.reason)")
        }
        let value: JSONValue
        do {
            value = try StrictJSONParser.parse(bytes)
        } catch {
            throw PolicyError("\(path): not valid JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw PolicyError("\(path): a policy file holds a JSON object, found \(value.typeName)")
        }
        return try layer(from: object, source: "file:\(path)", context: path)
    }

    /// Reads policy settings from a JSON object (a policy file, or a `policy` member of a batch manifest).
    ///
    /// - Parameter context: Names the place in errors (`FILE` or `FILE: pairs[2].policy`).
    package static func layer(from object: JSONObject, source: String, context: String) throws(PolicyError) -> PolicyLayer {
        var layer = PolicyLayer(source: source)
        var seen = Set<String>()
        for (key, value) in object.members {
            guard seen.insert(key).inserted else { throw PolicyError("\(context): '\(key)' is given twice") }
            switch key {
            case "ckdiff_policy_version":
                guard value.uint64Value == UInt64(formatVersion) else {
                    throw PolicyError("\(context): ckdiff_policy_version must be \(formatVersion)")
                }
            case "sources":
                break // written by `ckdiff policy`; informational
            case "tolerance":
                layer.tolerance = try tolerance(value, "\(context): tolerance")
            case "dtypes":
                guard let table = value.objectValue else { throw PolicyError("\(context): dtypes must be an object") }
                for (name, entry) in table.members {
                    guard let dtype = DType(rawValue: name) else {
                        throw PolicyError("\(context): dtypes: unknown dtype '\(name)'")
                    }
                    guard dtype.kind == .floatingPoint else {
                        throw PolicyError("\(context): dtypes: \(name) is not a decoded floating-point dtype (integer and BOOL pairs are always compared exactly)")
                    }
                    layer.dtypes[name] = try tolerance(entry, "\(context): dtypes.\(name)")
                }
            case "components":
                guard let table = value.objectValue else { throw PolicyError("\(context): components must be an object") }
                for (name, entry) in table.members {
                    guard Component(rawValue: name) != nil else {
                        throw PolicyError("\(context): components: unknown component '\(name)' (use \(Component.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    layer.components[name] = try tolerance(entry, "\(context): components.\(name)")
                }
            case "keys":
                guard let list = value.arrayValue else { throw PolicyError("\(context): keys must be an array") }
                for (i, entry) in list.enumerated() {
                    guard let rule = entry.objectValue, let glob = rule["glob"]?.stringValue, !glob.isEmpty else {
                        throw PolicyError("\(context): keys[\(i)] must be an object with a non-empty string glob, atol and rtol")
                    }
                    var rest = rule
                    rest.members.removeAll { $0.key == "glob" }
                    let tolerance = try tolerance(.object(rest), "\(context): keys[\(i)]")
                    layer.keys.append(KeyRule(glob: glob, tolerance: tolerance))
                }
            case "fail_on":
                guard let list = value.arrayValue else { throw PolicyError("\(context): fail_on must be an array of strings") }
                var names: [String] = []
                for entry in list {
                    guard let name = entry.stringValue else { throw PolicyError("\(context): fail_on must be an array of strings") }
                    names.append(name)
                }
                switch FailOnCategory.expand(names) {
                case .success(let expanded): layer.failOn = expanded
                case .failure(let unknown): throw PolicyError("\(context): \(unknown)")
                }
            default:
                throw PolicyError("\(context): unknown setting '\(key)' (use tolerance, dtypes, components, keys, fail_on)")
            }
        }
        return layer
    }

    /// Reads `{"atol": X, "rtol": Y}`: both or neither, as torch.testing requires; finite and ≥ 0.
    static func tolerance(_ value: JSONValue, _ context: String) throws(PolicyError) -> Tolerance {
        guard let object = value.objectValue else { throw PolicyError("\(context) must be an object with atol and rtol") }
        for (key, _) in object.members where key != "atol" && key != "rtol" {
            throw PolicyError("\(context): unknown member '\(key)' (a tolerance has atol and rtol)")
        }
        guard let atolValue = object["atol"], let rtolValue = object["rtol"] else {
            throw PolicyError("\(context): atol and rtol go together: give both")
        }
        guard let atol = atolValue.doubleValue, let rtol = rtolValue.doubleValue else {
            throw PolicyError("\(context): atol and rtol must be numbers")
        }
        return try checked(atol: atol, rtol: rtol, context)
    }

    /// A tolerance from two numbers, refused unless both are finite and ≥ 0.
    public static func checked(atol: Double, rtol: Double, _ context: String) throws(PolicyError) -> Tolerance {
        guard atol.isFinite, atol >= 0, rtol.isFinite, rtol >= 0 else {
            throw PolicyError("\(context): atol and rtol must be finite numbers ≥ 0")
        }
        return Tolerance(atol: atol, rtol: rtol)
    }
}
