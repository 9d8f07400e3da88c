extension Layout {
    /// Detects the layout of a checkpoint from its storage and key names, in one pass over the keys.
    ///
    /// In order: a folder, or a file named like diffusers weights, is ``diffusers``; adapter
    /// keys make a LoRA (LyCORIS suffixes `hada_`/`lokr_`/`oft_blocks`/`diff` first, then
    /// kohya `lora_down`/`lora_unet_`/`lora_te*_`, then PEFT `lora_A`/`lora_B` and the older
    /// diffusers `lora.down`/`lora_linear_layer`); `text_encoders.` or an MMDiT/Flux
    /// denoiser under `model.diffusion_model.` is ``comfy``; `conditioner.embedders.` is
    /// ``sgm``; `model.diffusion_model.`/`cond_stage_model.`/`model_ema.` is ``ldm``;
    /// kohya's `unet.`/`te.`/`te1.`/`te2.` is ``kohyaFlattened``; a VAE under
    /// `first_stage_model.` alone is ``ldm``; bare diffusers names are ``diffusers``, bare
    /// LDM UNet names ``ldm``.
    public static func detect(_ checkpoint: Checkpoint) -> Layout {
        if checkpoint.storage != .singleFile || checkpoint.componentFolderHint != nil { return .diffusers }
        var flags = Flags()
        for tensor in checkpoint.tensors { flags.note(tensor.key) }
        if flags.lycoris { return .loraLyCORIS }
        if flags.kohyaLoRA { return .loraKohya }
        if flags.peftLoRA { return .loraPEFT }
        if flags.comfyEncoders || flags.transformerUnderLDMPrefix { return .comfy }
        if flags.conditioner { return .sgm }
        if flags.ldm { return .ldm }
        if flags.kohyaFlattened { return .kohyaFlattened }
        if flags.firstStage { return .ldm }
        if flags.vaePrefix { return .kohyaFlattened }
        if flags.bareLDMUNet { return .ldm }
        if flags.bareDiffusers { return .diffusers }
        return .unknown
    }

    /// What the key names show, gathered in one pass.
    private struct Flags {
        var lycoris = false
        var kohyaLoRA = false
        var peftLoRA = false
        var comfyEncoders = false
        var transformerUnderLDMPrefix = false
        var conditioner = false
        var ldm = false
        var kohyaFlattened = false
        var firstStage = false
        var vaePrefix = false
        var bareLDMUNet = false
        var bareDiffusers = false

        mutating func note(_ key: String) {
            if KeyText.contains(key, "lora") || KeyText.contains(key, "lycoris") || KeyText.contains(key, ".hada_") || KeyText.contains(key, ".lokr_") {
                if KeyText.contains(key, ".hada_") || KeyText.contains(key, ".lokr_") || KeyText.contains(key, ".oft_blocks") || key.hasPrefix("lycoris_") {
                    lycoris = true
                }
                if key.hasPrefix("lora_unet_") || key.hasPrefix("lora_te") || KeyText.contains(key, ".lora_down.") || KeyText.contains(key, ".lora_up.") {
                    kohyaLoRA = true
                }
                if KeyText.contains(key, ".lora_A.") || KeyText.contains(key, ".lora_B.") || key.hasSuffix(".lora_A") || key.hasSuffix(".lora_B")
                    || KeyText.contains(key, ".lora.down.") || KeyText.contains(key, "_lora.down.") || KeyText.contains(key, ".lora_linear_layer.")
                    || KeyText.contains(key, ".lora_magnitude_vector") {
                    peftLoRA = true
                }
            }
            if key.hasPrefix("lora_unet_") || key.hasPrefix("lora_te"), key.hasSuffix(".diff") || key.hasSuffix(".diff_b") {
                lycoris = true
            }
            if key.hasPrefix("text_encoders.") { comfyEncoders = true }
            if key.hasPrefix("model.diffusion_model.") {
                ldm = true
                if key.hasPrefix("model.diffusion_model.joint_blocks.") || key.hasPrefix("model.diffusion_model.double_blocks.") {
                    transformerUnderLDMPrefix = true
                }
            } else if key.hasPrefix("cond_stage_model.") || key.hasPrefix(EMAKey.prefix) {
                ldm = true
            } else if key.hasPrefix("conditioner.embedders.") {
                conditioner = true
            } else if key.hasPrefix("unet.") || key.hasPrefix("te.") || key.hasPrefix("te1.") || key.hasPrefix("te2.") {
                kohyaFlattened = true
            } else if key.hasPrefix("first_stage_model.") {
                firstStage = true
            } else if key.hasPrefix("vae.") {
                vaePrefix = true
            } else if key.hasPrefix("input_blocks.") || key.hasPrefix("middle_block.") || key.hasPrefix("output_blocks.") {
                bareLDMUNet = true
            } else if key.hasPrefix("conv_in.") || key.hasPrefix("down_blocks.") || key.hasPrefix("encoder.down_blocks.")
                        || key.hasPrefix("decoder.up_blocks.") || key.hasPrefix("text_model.") || key.hasPrefix("encoder.layers.")
                        || key.hasPrefix("transformer_blocks.") || key.hasPrefix("single_transformer_blocks.")
                        || key.hasPrefix("embeddings.token_embedding.") {
                bareDiffusers = true
            }
        }
    }
}
