/// A part of a diffusion model that coverage and reports are broken down by.
public enum Component: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// The denoiser: a UNet, or the transformer of SD3/Flux/Cascade.
    case unet
    /// The autoencoder (AutoencoderKL or similar).
    case vae
    /// OpenAI CLIP ViT-L/14 text encoder (SD1 text encoder, SDXL `text_encoder`).
    case clipL = "clip_l"
    /// OpenCLIP text encoder: ViT-H/14 (SD2) or ViT-bigG/14 (SDXL `text_encoder_2`).
    case openCLIP = "open_clip"
    /// Exponential-moving-average copies of denoiser weights.
    case ema
    /// Everything else: schedule buffers, markers, other encoders, unknown keys.
    case other

    /// The name shown to people ("UNet", "CLIP-L", …).
    public var displayName: String {
        switch self {
        case .unet: return "UNet"
        case .vae: return "VAE"
        case .clipL: return "CLIP-L"
        case .openCLIP: return "OpenCLIP/CLIP-G"
        case .ema: return "EMA"
        case .other: return "other"
        }
    }

    public static func < (lhs: Component, rhs: Component) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
