/// One tensor inside a block, as the original layout and diffusers name it.
///
/// "Original" is the naming of the model's own code base: LDM/SGM for the UNet
/// and VAE, OpenCLIP for the OpenCLIP text towers (for CLIP-L it is the HF
/// naming, the same as diffusers). The diffusers name is the canonical one.
struct LeafPair: Sendable, Hashable {
    /// The leaf's name after the block's original prefix (`in_layers.0.weight`).
    var original: String
    /// The leaf's name after the block's diffusers prefix (`norm1.weight`).
    var diffusers: String
    /// How the original tensor lines up with the diffusers one (`reshape` for a 1×1 conv
    /// against a linear, `transpose` for OpenCLIP's `text_projection`).
    var transform: PairTransform = .identity
    /// The rows of the original tensor that hold the diffusers one, for fused q/k/v.
    var part: RowPart? = nil

    init(_ original: String, _ diffusers: String, _ transform: PairTransform = .identity, part: RowPart? = nil) {
        self.original = original
        self.diffusers = diffusers
        self.transform = transform
        self.part = part
    }

    /// `weight` and `bias` of a module renamed from `original` to `diffusers`.
    static func module(_ original: String, _ diffusers: String, weight: PairTransform = .identity) -> [LeafPair] {
        let o = original.isEmpty ? "" : original + "."
        let d = diffusers.isEmpty ? "" : diffusers + "."
        return [LeafPair(o + "weight", d + "weight", weight), LeafPair(o + "bias", d + "bias")]
    }

    /// `weight` and `bias` of modules named alike on both sides.
    static func same(_ names: [String]) -> [LeafPair] {
        names.flatMap { module($0, $0) }
    }
}
