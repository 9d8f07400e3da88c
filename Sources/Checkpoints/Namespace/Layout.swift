/// How the keys of a checkpoint are spelled: which tool's naming it follows.
///
/// Detection reports it (``Layout/detect(_:)``); mapping tables are generated between the
/// layouts a family is written in (``diffusers``, ``ldm``, ``sgm``, ``kohyaFlattened``), each
/// described by the family's ``KeyNamespace`` in ``KeyNamespaces``.
public enum Layout: String, Sendable, Hashable, Codable, CaseIterable {
    /// A diffusers folder, or a lone diffusers component (`conv_in.weight`, `down_blocks.…`).
    case diffusers
    /// A CompVis/LDM single file (SD1/SD2): `model.diffusion_model.`, `first_stage_model.`, `cond_stage_model.`,
    /// `model_ema.` + dot-stripped keys. For SDXL it is the same as ``sgm``.
    case ldm
    /// A Stability SGM single file (SDXL, also ComfyUI saves): `conditioner.embedders.N.`.
    case sgm
    /// A ComfyUI single file of a transformer model (SD3, Flux): `model.diffusion_model.` with `text_encoders.`.
    case comfy
    /// kohya's flattened namespaces (sd-mecha): `unet.` with diffusers (SD1/SD2) or SGM (SDXL) names,
    /// `vae.` diffusers (SD1/SD2) or `first_stage_model.` LDM (SDXL) names, and `te.` (one encoder)
    /// or `te1.`/`te2.` with HF CLIP keys.
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

    /// The kohya-flattened layout (the name mapping tables used).
    public static var kohya: Layout { .kohyaFlattened }

    /// Reads the name of a layout mapping tables are generated for: the raw values of ``diffusers``,
    /// ``ldm``, ``sgm`` and ``kohyaFlattened``, and `kohya`, `original`, `compvis`, `comfyui`
    /// (= ``sgm``); nil for any other name.
    public init?(name: String) {
        switch name.lowercased() {
        case "diffusers": self = .diffusers
        case "ldm", "compvis", "original": self = .ldm
        case "sgm", "comfyui", "comfy": self = .sgm
        case "kohya", "kohya_flattened", "kohya-flattened": self = .kohyaFlattened
        default: return nil
        }
    }
}

/// The layout names mapping tables used before detection and mapping shared ``Layout``.
@available(*, deprecated, renamed: "Layout")
public typealias KeyLayout = Layout
