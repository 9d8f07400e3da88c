/// Why a tensor exists on one side only.
public enum LeftoverClass: String, Sendable, Hashable, Codable {
    /// A model weight the other side lacks: a real coverage gap.
    case weight
    /// An EMA copy (`model_ema.*`, `unet_ema/`).
    case ema
    /// A noise-schedule buffer some writers add (`betas`, `alphas_cumprod`, …).
    case scheduleBuffer = "schedule_buffer"
    /// A marker tensor (`v_pred`, `ztsnr`, `edm_vpred.*`).
    case marker
    /// A buffer one layout keeps and another drops (`position_ids`, `logit_scale`).
    case layoutOnly = "layout_only"
    /// A placeholder some converters write (SD2 `resblocks.23`, a ones `text_projection`).
    case placeholder
    /// A key some files prune (SDXL CLIP-L last layer, …).
    case optional
    /// Nothing ckdiff recognises.
    case unknown
    /// Denoiser weights `--ema` left out: a live UNet its EMA copy stands for, or an EMA copy
    /// (and its `decay`/`num_updates`) not compared because the live UNet stands for the side.
    case setAside = "set_aside"
}
