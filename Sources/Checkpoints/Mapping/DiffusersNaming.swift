/// The canonical form of keys already in diffusers/HF naming.
///
/// diffusers names are the canonical ones, so these are identities, except for the
/// spellings older or flattened writers use. Each returns nil for a key that is not
/// of the component, so that unknown keys stay unknown.
enum DiffusersNaming {
    /// Top-level modules of a diffusers `UNet2DConditionModel`.
    static let unetRoots: Set<Substring> = [
        "conv_in", "conv_out", "conv_norm_out", "time_embedding", "add_embedding", "class_embedding",
        "down_blocks", "mid_block", "up_blocks", "encoder_hid_proj", "add_time_proj",
    ]

    /// Second-level modules of a diffusers VAE encoder or decoder.
    static let vaeSideModules: Set<Substring> = ["conv_in", "conv_out", "conv_norm_out", "down_blocks", "up_blocks", "mid_block"]

    /// A UNet key in diffusers naming, or nil if it is not one.
    static func unet(_ key: String) -> String? {
        guard let first = key.split(separator: ".", maxSplits: 1).first, unetRoots.contains(first),
              key.contains(".") else { return nil }
        return key
    }

    /// A VAE key in diffusers naming (legacy attention names renamed), or nil if it is not one.
    static func vae(_ key: String) -> String? {
        let parts = key.split(separator: ".", maxSplits: 2)
        guard parts.count >= 2 else { return nil }
        if parts[0] == "quant_conv" || parts[0] == "post_quant_conv" { return key }
        guard parts[0] == "encoder" || parts[0] == "decoder", vaeSideModules.contains(parts[1]) else { return nil }
        let attention = String(parts[0]) + ".mid_block.attentions.0."
        if key.hasPrefix(attention), let modern = BlockKind.legacyVAEAttentionNames[String(key.dropFirst(attention.count))] {
            return attention + modern
        }
        return key
    }

    /// A CLIP text-model key in HF naming, with `text_model.` restored where a flattened
    /// writer (transformers ≥ 5.6, old SD1 files) left it out, or nil if it is not one.
    static func clip(_ key: String) -> String? {
        if key.hasPrefix("text_model.") || key == "text_projection.weight" { return key }
        if key.hasPrefix("embeddings.") || key.hasPrefix("encoder.layers.") || key.hasPrefix("final_layer_norm.") {
            return "text_model." + key
        }
        return nil
    }
}
