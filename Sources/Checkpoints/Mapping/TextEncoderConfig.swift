/// The parameters of a CLIP text encoder that decide its keys in each naming.
///
/// Canonical keys are those of the transformers `CLIPTextModel(WithProjection)` in the
/// encoder's diffusers folder (`text_encoder/text_model.encoder.layers.0.…`). The
/// OpenCLIP towers are stored in OpenCLIP naming in LDM/SGM files
/// (`transformer.resblocks.0.attn.in_proj_weight`, checkpoint-formats §5) and may
/// hold more than diffusers keeps: SD2's ViT-H has 24 resblocks and a
/// `text_projection`, its diffusers `text_encoder` 23 layers and none (§6.6).
public struct TextEncoderConfig: Sendable, Hashable, Codable {
    /// Which text tower.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// OpenAI CLIP ViT-L/14 (SD1, SDXL `text_encoder`): HF naming everywhere.
        case clipL = "clip_l"
        /// OpenCLIP ViT-H/14 (SD2): OpenCLIP naming in LDM files.
        case openCLIPH = "open_clip_h"
        /// OpenCLIP ViT-bigG/14 (SDXL `text_encoder_2`): OpenCLIP naming in SGM files.
        case openCLIPBigG = "open_clip_bigg"
    }

    /// Which text tower.
    public var kind: Kind
    /// The diffusers folder, which is also the canonical key prefix (`text_encoder`, `text_encoder_2`).
    public var folder: String
    /// Transformer layers in the original (LDM/SGM) form.
    public var layers: Int
    /// Whether the original form has a `text_projection`.
    public var hasProjection: Bool
    /// Transformer layers in HF/diffusers form.
    public var diffusersLayers: Int
    /// Whether the HF/diffusers form has `text_projection.weight`.
    public var diffusersHasProjection: Bool

    public init(kind: Kind, folder: String, layers: Int, hasProjection: Bool,
                diffusersLayers: Int? = nil, diffusersHasProjection: Bool? = nil) {
        self.kind = kind
        self.folder = folder
        self.layers = layers
        self.hasProjection = hasProjection
        self.diffusersLayers = diffusersLayers ?? layers
        self.diffusersHasProjection = diffusersHasProjection ?? hasProjection
    }

    /// CLIP ViT-L/14: 12 layers, no projection in the UNet-conditioning form.
    public static let clipL = TextEncoderConfig(kind: .clipL, folder: "text_encoder", layers: 12, hasProjection: false)

    /// OpenCLIP ViT-H/14 of SD2: 24 resblocks and a projection; diffusers keeps 23 layers and no projection.
    public static let openCLIPH = TextEncoderConfig(kind: .openCLIPH, folder: "text_encoder", layers: 24, hasProjection: true,
                                                    diffusersLayers: 23, diffusersHasProjection: false)

    /// OpenCLIP ViT-bigG/14 of SDXL: 32 layers with a projection, in `folder`.
    public static func openCLIPBigG(folder: String = "text_encoder_2") -> TextEncoderConfig {
        TextEncoderConfig(kind: .openCLIPBigG, folder: folder, layers: 32, hasProjection: true)
    }

    /// Whether the original form uses OpenCLIP naming (rather than HF naming).
    public var usesOpenCLIPNaming: Bool { kind != .clipL }

    /// The report component of this encoder.
    public var component: Component { kind == .clipL ? .clipL : .openCLIP }

    /// Every canonical key (without the folder), in HF order, with how many layers and
    /// whether a projection and `logit_scale` exist in any form.
    var canonicalKeys: [String] {
        var keys = ["text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight"]
        for layer in 0..<max(layers, diffusersLayers) {
            let prefix = "text_model.encoder.layers.\(layer)."
            for module in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                           "layer_norm1", "mlp.fc1", "mlp.fc2", "layer_norm2"] {
                keys.append(prefix + module + ".weight")
                keys.append(prefix + module + ".bias")
            }
        }
        keys += ["text_model.final_layer_norm.weight", "text_model.final_layer_norm.bias"]
        if hasProjection || diffusersHasProjection { keys.append("text_projection.weight") }
        if usesOpenCLIPNaming { keys.append("logit_scale") }
        return keys
    }

    /// Whether the HF/diffusers form has this canonical key.
    func hfHas(_ key: String) -> Bool {
        if key == "logit_scale" { return false }
        if key == "text_projection.weight" { return diffusersHasProjection }
        if let layer = TextEncoderConfig.layerIndex(of: key) { return layer < diffusersLayers }
        return true
    }

    /// The map between OpenCLIP and HF keys for this encoder's original form.
    var openCLIPBlocks: BlockMap {
        var blocks = [BlockPair("", "", .openCLIPRoot(projection: hasProjection))]
        for layer in 0..<layers {
            blocks.append(BlockPair("transformer.resblocks.\(layer).", "text_model.encoder.layers.\(layer).", .openCLIPLayer))
        }
        return BlockMap(blocks)
    }

    /// The layer a canonical key belongs to (`text_model.encoder.layers.N.…`), or nil.
    static func layerIndex(of key: String) -> Int? {
        let prefix = "text_model.encoder.layers."
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return Int(rest[..<dot])
    }
}
