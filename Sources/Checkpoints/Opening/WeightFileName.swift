/// A file name in a diffusers component folder, read by diffusers' naming rules.
///
/// The rules are those of `diffusers.pipelines.pipeline_loading_utils.variant_compatible_siblings`
/// and `diffusers.utils.hub_utils._add_variant`:
///
///     diffusion_pytorch_model.safetensors                          weights
///     diffusion_pytorch_model.fp16.safetensors                     weights, variant fp16
///     diffusion_pytorch_model-00001-of-00002.safetensors           shard 1 of 2
///     diffusion_pytorch_model.fp16-00001-of-00002.safetensors      shard 1 of 2, variant fp16
///     diffusion_pytorch_model-00001-of-00002.fp16.safetensors      the same, legacy spelling
///     diffusion_pytorch_model.safetensors.index.json               shard index
///     diffusion_pytorch_model.safetensors.index.fp16.json          shard index, variant fp16
///     diffusion_pytorch_model.safetensors.fp16.index.json          the same, legacy spelling
///
/// `model` (transformers' name) works like `diffusion_pytorch_model`. The `.bin`
/// spellings (`diffusion_pytorch_model.bin`, `pytorch_model.bin`) are recognised only
/// to say that pickle files are not read.
struct WeightFileName: Hashable, Sendable {
    /// What the file holds.
    enum Role: Hashable, Sendable {
        /// Safetensors weights, whole or one shard.
        case weights
        /// A shard index (`….safetensors.index.json`).
        case index
        /// Legacy PyTorch pickle weights (`.bin`), which ckdiff does not read.
        case pickle
    }

    /// Shard `number` of `count`, both from 1.
    struct Shard: Hashable, Sendable {
        var number: Int
        var count: Int
    }

    /// The file name itself.
    var name: String
    /// `diffusion_pytorch_model`, `model` or (pickle only) `pytorch_model`.
    var stem: String
    /// The variant (`fp16`), or nil for the default weights.
    var variant: String?
    var role: Role
    /// The shard, for a shard of sharded weights.
    var shard: Shard?

    /// The stems of safetensors weights, longest first.
    static let safetensorsStems = ["diffusion_pytorch_model", "model"]
    /// The stems of pickle weights, longest first.
    static let pickleStems = ["diffusion_pytorch_model", "pytorch_model", "model"]

    /// Reads `name`, or returns nil if it is not a diffusers weight, index or pickle name.
    init?(_ name: String) {
        if let body = Substring(name).removingSuffix(".json") {
            guard let parsed = WeightFileName.parseIndex(body) else { return nil }
            self.init(name: name, stem: parsed.stem, variant: parsed.variant, role: .index, shard: nil)
        } else if let body = Substring(name).removingSuffix(".safetensors") {
            guard let parsed = WeightFileName.parseWeights(body, stems: WeightFileName.safetensorsStems) else { return nil }
            self.init(name: name, stem: parsed.stem, variant: parsed.variant, role: .weights, shard: parsed.shard)
        } else if let body = Substring(name).removingSuffix(".bin") {
            guard let parsed = WeightFileName.parseWeights(body, stems: WeightFileName.pickleStems) else { return nil }
            self.init(name: name, stem: parsed.stem, variant: parsed.variant, role: .pickle, shard: parsed.shard)
        } else {
            return nil
        }
    }

    private init(name: String, stem: String, variant: String?, role: Role, shard: Shard?) {
        self.name = name
        self.stem = stem
        self.variant = variant
        self.role = role
        self.shard = shard
    }

    /// Whether `text` can be a variant: ASCII letters, digits and `_` (`fp16`, `bf16`, `non_ema`).
    static func isVariant(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
    }

    /// `stem.safetensors.index`, `stem.safetensors.index.V` or `stem.safetensors.V.index`.
    private static func parseIndex(_ body: Substring) -> (stem: String, variant: String?)? {
        for stem in safetensorsStems {
            guard let rest = body.removingPrefix(stem + ".safetensors.") else { continue }
            if rest == "index" { return (stem, nil) }
            if let variant = rest.removingPrefix("index."), isVariant(variant) { return (stem, String(variant)) }
            if let variant = rest.removingSuffix(".index"), isVariant(variant) { return (stem, String(variant)) }
        }
        return nil
    }

    /// `stem`, `stem.V`, `stem-NNNNN-of-NNNNN`, `stem.V-NNNNN-of-NNNNN` or `stem-NNNNN-of-NNNNN.V`.
    private static func parseWeights(_ body: Substring, stems: [String]) -> (stem: String, variant: String?, shard: Shard?)? {
        for stem in stems {
            guard let rest = body.removingPrefix(stem) else { continue }
            if rest.isEmpty { return (stem, nil, nil) }
            if rest.first == "-" {
                // Default shard, or legacy variant shard `-NNNNN-of-NNNNN.V`.
                let (suffix, variant) = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
                    .twoParts
                guard let shard = parseShard(suffix) else { continue }
                guard let variant else { return (stem, nil, shard) }
                guard isVariant(variant) else { continue }
                return (stem, String(variant), shard)
            }
            if let afterDot = rest.removingPrefix(".") {
                if let dash = afterDot.firstIndex(of: "-") {
                    let variant = afterDot[..<dash]
                    guard isVariant(variant), let shard = parseShard(afterDot[dash...]) else { continue }
                    return (stem, String(variant), shard)
                }
                guard isVariant(afterDot) else { continue }
                return (stem, String(afterDot), nil)
            }
        }
        return nil
    }

    /// `-NNNNN-of-NNNNN` with at least five digits each, 1 ≤ number ≤ count.
    private static func parseShard(_ text: Substring) -> Shard? {
        guard let rest = text.removingPrefix("-") else { return nil }
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "of", parts[0].count >= 5, parts[2].count >= 5,
              parts[0].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              parts[2].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let number = Int(parts[0]), let count = Int(parts[2]), number >= 1, number <= count else { return nil }
        return Shard(number: number, count: count)
    }
}

extension Substring {
    /// The rest of the string after `prefix`, or nil if it does not start with it.
    fileprivate func removingPrefix(_ prefix: String) -> Substring? {
        guard hasPrefix(prefix) else { return nil }
        return self[index(startIndex, offsetBy: prefix.count)...]
    }

    /// The string without `suffix`, or nil if it does not end with it.
    fileprivate func removingSuffix(_ suffix: String) -> Substring? {
        guard hasSuffix(suffix) else { return nil }
        return self[..<index(endIndex, offsetBy: -suffix.count)]
    }
}

extension Array where Element == Substring {
    /// The first element and, if there is one, the second.
    fileprivate var twoParts: (Substring, Substring?) {
        (first ?? "", count > 1 ? self[1] : nil)
    }
}
