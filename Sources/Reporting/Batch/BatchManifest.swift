import CKDiffJSON
import Checkpoints
import Foundation
import Safetensors

/// A list of checkpoint pairs for `ckdiff batch` (a conversion matrix: one source, several converters or dtypes).
///
/// JSON, documented in `docs/batch.md`. Relative paths are relative to the manifest's folder.
public struct BatchManifest: Sendable {
    /// The version of the manifest format.
    public static let formatVersion = 1

    /// The manifest file.
    public var path: String
    /// Policy settings for every pair (inline or from a file), over the defaults.
    public var policy: PolicyLayer?
    public var pairs: [Pair]

    /// One pair to compare.
    public struct Pair: Sendable {
        /// A unique name (report, JUnit suites, baseline file names); `pair-N` when not given.
        public var name: String
        public var a: String
        public var b: String
        /// `a` and `b` as the manifest writes them (relative to it), for files meant to be committed.
        public var aAsGiven: String
        public var bAsGiven: String
        /// Diffusers weight variant for both sides, and per side.
        public var variant: String?
        public var aVariant: String?
        public var bVariant: String?
        /// Policy settings for this pair, over the manifest's.
        public var policy: PolicyLayer?
        /// A baseline to hold this pair against.
        public var baseline: String?
        /// Which weights stand for each side's UNet, as `--ema` (``EMASelection``).
        public var ema: EMASelection = .live
    }

    /// Reads a manifest; errors name the file and the member.
    ///
    /// Through ``SideFile``: a regular file of at most 1 MiB; a FIFO or device is refused without blocking.
    public static func read(_ path: String) throws(PolicyError) -> BatchManifest {
        let bytes: [UInt8]
        do {
            bytes = try SideFile.read(path, limit: SideFile.settingsLimit, what: "batch manifest")
        } catch {
            throw PolicyError("\(path): cannot read the manifest: \(error.reason)")
        }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(bytes)
        } catch {
            throw PolicyError("\(path): not valid JSON: \(error)")
        }
        guard let object = root.objectValue else { throw PolicyError("\(path): a manifest holds a JSON object") }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : folder.appendingPathComponent(relative).path
        }
        func policyLayer(_ value: JSONValue, _ context: String, source: String) throws(PolicyError) -> PolicyLayer {
            if let file = value.stringValue {
                var layer = try Policy.layer(fromFile: resolve(file))
                layer.source = "\(source) file:\(resolve(file))"
                return layer
            }
            guard let inline = value.objectValue else {
                throw PolicyError("\(context) must be a policy object or the path of a policy file")
            }
            return try Policy.layer(from: inline, source: source, context: context)
        }
        var manifest = BatchManifest(path: path, policy: nil, pairs: [])
        var sawPairs = false
        for (key, value) in object.members {
            switch key {
            case "ckdiff_batch_version":
                guard value.uint64Value == UInt64(formatVersion) else {
                    throw PolicyError("\(path): ckdiff_batch_version must be \(formatVersion)")
                }
            case "policy":
                manifest.policy = try policyLayer(value, "\(path): policy", source: "manifest:\(path)")
            case "pairs":
                sawPairs = true
                guard let list = value.arrayValue, !list.isEmpty else { throw PolicyError("\(path): pairs must be a non-empty array") }
                for (i, entry) in list.enumerated() {
                    let context = "\(path): pairs[\(i)]"
                    guard let pair = entry.objectValue else { throw PolicyError("\(context) must be an object") }
                    func string(_ name: String) throws(PolicyError) -> String? {
                        guard let value = pair[name] else { return nil }
                        guard let text = value.stringValue, !text.isEmpty else { throw PolicyError("\(context).\(name) must be a non-empty string") }
                        return text
                    }
                    for (member, _) in pair.members where !["name", "a", "b", "variant", "a_variant", "b_variant", "ema", "policy", "baseline"].contains(member) {
                        throw PolicyError("\(context): unknown member '\(member)' (use name, a, b, variant, a_variant, b_variant, ema, policy, baseline)")
                    }
                    var ema = EMASelection.live
                    if let text = try string("ema") {
                        guard let selection = EMASelection(rawValue: text) else {
                            throw PolicyError("\(context).ema must be one of \(EMASelection.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        ema = selection
                    }
                    guard let a = try string("a"), let b = try string("b") else { throw PolicyError("\(context) needs a and b") }
                    let name = try string("name") ?? "pair-\(i + 1)"
                    guard !manifest.pairs.contains(where: { $0.name == name }) else {
                        throw PolicyError("\(context): the name '\(name)' is used twice")
                    }
                    guard !name.contains("/") else { throw PolicyError("\(context): a name may not contain '/'") }
                    let layer = try pair["policy"].map { value throws(PolicyError) in
                        try policyLayer(value, "\(context).policy", source: "manifest:\(path) pairs[\(i)]")
                    }
                    manifest.pairs.append(Pair(name: name, a: resolve(a), b: resolve(b), aAsGiven: a, bAsGiven: b, variant: try string("variant"),
                                               aVariant: try string("a_variant"), bVariant: try string("b_variant"),
                                               policy: layer, baseline: try string("baseline").map(resolve), ema: ema))
                }
            default:
                throw PolicyError("\(path): unknown member '\(key)' (use ckdiff_batch_version, policy, pairs)")
            }
        }
        guard sawPairs else { throw PolicyError("\(path): no pairs") }
        return manifest
    }
}
