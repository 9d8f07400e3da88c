/// A way of naming a model's tensors: where each component sits and how its keys are spelled.
///
/// The canonical key space is the diffusers one with the component folder as prefix
/// (`unet/down_blocks.0.resnets.0.conv1.weight`, `vae/…`, `text_encoder/text_model.…`,
/// `text_encoder_2/…`, `unet_ema/…`). Each layout renders those keys its own way
/// (checkpoint-formats §1, §15).
public enum KeyLayout: String, Sendable, Hashable, CaseIterable, Codable {
    /// A diffusers folder: `unet/`, `vae/`, `text_encoder/`, `text_encoder_2/` (+ `unet_ema/`).
    case diffusers
    /// An LDM single file (SD1/SD2): `model.diffusion_model.`, `first_stage_model.`,
    /// `cond_stage_model.transformer.` (CLIP-L) or `cond_stage_model.model.` (OpenCLIP),
    /// `model_ema.` + dot-stripped keys. For SDXL it is the same as ``sgm``.
    case ldm
    /// An SGM single file: UNet and VAE as in LDM, text encoders under
    /// `conditioner.embedders.N.transformer.` (CLIP-L) or `conditioner.embedders.N.model.` (OpenCLIP).
    case sgm
    /// sd-mecha's kohya-flattened layout: `unet.` with diffusers (SD1/SD2) or SGM (SDXL)
    /// names, `vae.` diffusers (SD1/SD2) or `first_stage_model.` LDM (SDXL) names, and
    /// `te.` (one encoder) or `te1.`/`te2.` with HF CLIP keys.
    case kohya = "kohya_flattened"

    /// Reads a layout name: the raw values and `kohya`, `original`, `comfyui` (= `sgm`/`ldm` per family).
    public init?(name: String) {
        switch name.lowercased() {
        case "diffusers": self = .diffusers
        case "ldm", "compvis", "original": self = .ldm
        case "sgm", "comfyui", "comfy": self = .sgm
        case "kohya", "kohya_flattened", "kohya-flattened": self = .kohya
        default: return nil
        }
    }

    /// Where one part of a model sits in this layout.
    struct Namespace: Sendable, Hashable {
        /// The key prefix (`model.diffusion_model.`, `unet/`, `te1.`).
        var prefix: String
        /// Whether keys use the original naming (LDM/SGM block names, OpenCLIP names) rather than diffusers/HF.
        var originalNaming: Bool
    }

    /// Where the UNet sits.
    func unetNamespace(_ family: ModelFamily) -> Namespace {
        switch self {
        case .diffusers: return Namespace(prefix: "unet/", originalNaming: false)
        case .ldm, .sgm: return Namespace(prefix: "model.diffusion_model.", originalNaming: true)
        case .kohya: return Namespace(prefix: "unet.", originalNaming: family.isSDXL)
        }
    }

    /// Where the VAE sits.
    func vaeNamespace(_ family: ModelFamily) -> Namespace {
        switch self {
        case .diffusers: return Namespace(prefix: "vae/", originalNaming: false)
        case .ldm, .sgm: return Namespace(prefix: "first_stage_model.", originalNaming: true)
        case .kohya: return family.isSDXL ? Namespace(prefix: "first_stage_model.", originalNaming: true)
                                          : Namespace(prefix: "vae.", originalNaming: false)
        }
    }

    /// Where text encoder number `index` of `encoders` sits.
    func textEncoderNamespace(_ family: ModelFamily, index: Int, encoders: [TextEncoderConfig]) -> Namespace {
        let encoder = encoders[index]
        let openCLIP = encoder.usesOpenCLIPNaming
        switch self {
        case .diffusers:
            return Namespace(prefix: encoder.folder + "/", originalNaming: false)
        case .ldm where !family.isSDXL && encoders.count == 1:
            return Namespace(prefix: openCLIP ? "cond_stage_model.model." : "cond_stage_model.transformer.", originalNaming: true)
        case .ldm, .sgm:
            return Namespace(prefix: "conditioner.embedders.\(index).\(openCLIP ? "model" : "transformer").", originalNaming: true)
        case .kohya:
            if encoders.count == 1 && encoder.folder == "text_encoder" { return Namespace(prefix: "te.", originalNaming: false) }
            return Namespace(prefix: encoder.folder == "text_encoder_2" ? "te2." : "te1.", originalNaming: false)
        }
    }

    /// Where EMA copies of the UNet sit, or nil if the layout has none.
    var emaPrefix: String? {
        switch self {
        case .diffusers: return "unet_ema/"
        case .ldm, .sgm: return "model_ema."
        case .kohya: return nil
        }
    }
}
