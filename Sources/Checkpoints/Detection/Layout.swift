/// How the keys of a checkpoint are spelled: which tool's naming it follows.
public enum Layout: String, Sendable, Hashable, Codable, CaseIterable {
    /// A diffusers folder, or a lone diffusers component (`conv_in.weight`, `down_blocks.…`).
    case diffusers
    /// A CompVis/LDM single file (SD1/SD2): `model.diffusion_model.`, `first_stage_model.`, `cond_stage_model.`.
    case ldm
    /// A Stability SGM single file (SDXL, also ComfyUI saves): `conditioner.embedders.N.`.
    case sgm
    /// A ComfyUI single file of a transformer model (SD3, Flux): `model.diffusion_model.` with `text_encoders.`.
    case comfy
    /// kohya's flattened namespaces: `unet.`, `te.`/`te1.`/`te2.`, `vae.`.
    case kohyaFlattened = "kohya_flattened"
    /// A kohya/sd-scripts LoRA: `lora_unet_…` / `lora_te…` with `lora_down`/`lora_up`/`alpha`.
    case loraKohya = "lora_kohya"
    /// A LyCORIS adapter (LoHa `hada_*`, LoKr `lokr_*`, full `diff`, …).
    case loraLyCORIS = "lora_lycoris"
    /// A PEFT / diffusers LoRA: `lora_A`/`lora_B` or the older diffusers `lora.down`/`lora_linear_layer` names.
    case loraPEFT = "lora_peft"
    /// Nothing ckdiff recognises.
    case unknown

    /// Whether this is an adapter (LoRA, LyCORIS) rather than a whole model.
    public var isAdapter: Bool {
        self == .loraKohya || self == .loraLyCORIS || self == .loraPEFT
    }
}
