/// Keys that exist in one layout only and are not model weights (checkpoint-formats §7).
enum SpecialKeys {
    /// The noise-schedule buffers LDM/SGM originals carry and OneTrainer always writes (top level, [1000] F32).
    static let scheduleBuffers: Set<String> = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
        "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ]

    /// Marker tensors: ComfyUI/OneTrainer prediction flags and Playground v2.5's EDM statistics.
    static let markers: Set<String> = ["v_pred", "ztsnr", "edm_vpred.sigma_max", "edm_vpred.sigma_min", "edm_mean", "edm_std"]

    /// Last key components of buffers one layout keeps and another drops: CLIP's `position_ids`
    /// (optional everywhere) and OpenCLIP's `logit_scale`.
    static let layoutOnlyLeaves: Set<Substring> = ["position_ids", "logit_scale"]

    /// The diffusers `text_encoder` of SD2 keeps 23 of ViT-H's 24 layers.
    static let sd2DiffusersLayers = 23

    /// Whether a key's last component is one of ``layoutOnlyLeaves``.
    static func isLayoutOnly(_ key: String) -> Bool {
        let last = key.split(separator: ".").last ?? Substring(key)
        return layoutOnlyLeaves.contains(last)
    }
}
