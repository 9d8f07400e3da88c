/// The key namespaces of every architecture ckdiff maps, in every layout it is written in,
/// and the mapping parameters of each: the one place a family is added.
///
/// To add a family: add its ``ModelFamily`` case, then its entry in ``architecture(_:)``
/// (the compiler asks for it): the published ``ModelStructure`` and one ``KeyNamespace``
/// per layout. Detection, alignment, coverage and mapping tables read the prefixes from
/// here (``NamespaceIndex`` merges them); nothing else lists them.
public enum KeyNamespaces {
    /// Every mapped family's namespaces, in ``ModelFamily`` order.
    public static var all: [ArchitectureNamespaces] { ModelFamily.allCases.map(architecture) }

    /// One family's namespaces and mapping parameters.
    public static func architecture(_ family: ModelFamily) -> ArchitectureNamespaces {
        switch family {
        case .sd1:
            return ArchitectureNamespaces(
                family: family, structure: ModelStructure(unet: .sd1, vae: .standard, textEncoders: [.clipL]),
                namespaces: [
                    diffusers(encoders: [.textEncoder("text_encoder/", .clipL, .diffusers, folder: "text_encoder")]),
                    ldm(.ldm, encoders: [.textEncoder("cond_stage_model.transformer.", .clipL, .original, folder: "text_encoder")]),
                    ldm(.sgm, encoders: [.textEncoder(sgmCLIP, slot: 0, .clipL, .original, folder: "text_encoder")]),
                    kohya(.diffusers, vae: .vae("vae.", .diffusers),
                          encoders: [.textEncoder("te.", .clipL, .diffusers, folder: "text_encoder")]),
                ])
        case .sd2:
            return ArchitectureNamespaces(
                family: family, structure: ModelStructure(unet: .sd2, vae: .standard, textEncoders: [.openCLIPH]),
                namespaces: [
                    diffusers(encoders: [.textEncoder("text_encoder/", .openCLIP, .diffusers, folder: "text_encoder")]),
                    ldm(.ldm, encoders: [.textEncoder("cond_stage_model.model.", .openCLIP, .original, folder: "text_encoder")]),
                    ldm(.sgm, encoders: [.textEncoder(sgmOpenCLIP, slot: 0, .openCLIP, .original, folder: "text_encoder")]),
                    kohya(.diffusers, vae: .vae("vae.", .diffusers),
                          encoders: [.textEncoder("te.", .openCLIP, .diffusers, folder: "text_encoder")]),
                ])
        case .sdxlBase:
            let sgmEncoders: [ComponentPrefix] = [
                .textEncoder(sgmCLIP, slot: 0, .clipL, .original, folder: "text_encoder"),
                .textEncoder(sgmOpenCLIP, slot: 1, .openCLIP, .original, folder: "text_encoder_2"),
            ]
            return ArchitectureNamespaces(
                family: family,
                structure: ModelStructure(unet: .sdxlBase, vae: .standard, textEncoders: [.clipL, .openCLIPBigG()]),
                namespaces: [
                    diffusers(encoders: [.textEncoder("text_encoder/", .clipL, .diffusers, folder: "text_encoder"),
                                         .textEncoder("text_encoder_2/", .openCLIP, .diffusers, folder: "text_encoder_2")]),
                    ldm(.ldm, encoders: sgmEncoders),
                    ldm(.sgm, encoders: sgmEncoders),
                    kohya(.original, vae: .vae("first_stage_model.", .original),
                          encoders: [.textEncoder("te1.", .clipL, .diffusers, folder: "text_encoder"),
                                     .textEncoder("te2.", .openCLIP, .diffusers, folder: "text_encoder_2")]),
                ])
        case .sdxlRefiner:
            let sgmEncoders: [ComponentPrefix] = [.textEncoder(sgmOpenCLIP, slot: 0, .openCLIP, .original, folder: "text_encoder_2")]
            return ArchitectureNamespaces(
                family: family,
                structure: ModelStructure(unet: .sdxlRefiner, vae: .standard, textEncoders: [.openCLIPBigG()]),
                namespaces: [
                    diffusers(encoders: [.textEncoder("text_encoder_2/", .openCLIP, .diffusers, folder: "text_encoder_2")]),
                    ldm(.ldm, encoders: sgmEncoders),
                    ldm(.sgm, encoders: sgmEncoders),
                    kohya(.original, vae: .vae("first_stage_model.", .original),
                          encoders: [.textEncoder("te2.", .openCLIP, .diffusers, folder: "text_encoder_2")]),
                ])
        }
    }

    /// Prefixes detection and alignment know that no mapped family writes: ComfyUI's bundled
    /// encoders (SD3, Flux), SGM conditioning slots beyond a family's own, the denoiser folders
    /// of transformer models and Stable Cascade, and catch-alls that keep unknown encoders out of the UNet.
    public static let unmapped: [ComponentPrefix] = [
        .textEncoder("text_encoders.clip_l.", .clipL, .diffusers, folder: "text_encoder", under: "transformer."),
        .textEncoder("text_encoders.clip_g.", .openCLIP, .diffusers, folder: "text_encoder_2", under: "transformer."),
        .other("text_encoders."),
        .textEncoder(sgmCLIP, .clipL, .original, folder: "text_encoder_2"),
        .textEncoder(sgmOpenCLIP, .openCLIP, .original, folder: "text_encoder_2"),
        .other("conditioner.embedders."),
        ComponentPrefix(prefix: "transformer/", part: .other, component: .unet, naming: .diffusers, folder: nil),
        ComponentPrefix(prefix: "prior/", part: .other, component: .unet, naming: .diffusers, folder: nil),
        ComponentPrefix(prefix: "decoder/", part: .other, component: .unet, naming: .diffusers, folder: nil),
        ComponentPrefix(prefix: "vqgan/", part: .other, component: .vae, naming: .diffusers, folder: nil),
    ]

    // MARK: - Layout building blocks

    /// An SGM CLIP-L slot.
    static let sgmCLIP = "conditioner.embedders.#.transformer."
    /// An SGM OpenCLIP slot.
    static let sgmOpenCLIP = "conditioner.embedders.#.model."

    /// LitEma's EMA names in LDM/SGM single files.
    public static let litEMA = FlatEMANaming(prefix: "model_ema.", stripped: "diffusion_model",
                                             decay: "model_ema.decay", numUpdates: "model_ema.num_updates")

    /// The 12 noise-schedule buffers LDM/SGM originals carry and OneTrainer always writes (top level, [1000] F32).
    static let scheduleBuffers: [LayoutOnlyKey] = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
        "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ].map { LayoutOnlyKey(.exact($0), .scheduleBuffer) }

    /// Marker tensors: ComfyUI/OneTrainer prediction flags and Playground v2.5's EDM statistics.
    static let markers: [LayoutOnlyKey] = ["v_pred", "ztsnr", "edm_vpred.sigma_max", "edm_vpred.sigma_min", "edm_mean", "edm_std"]
        .map { LayoutOnlyKey(.exact($0), .marker) }

    /// Buffers one layout keeps and another drops: CLIP's `position_ids` (optional everywhere) and OpenCLIP's `logit_scale`.
    static let buffers: [LayoutOnlyKey] = [LayoutOnlyKey(.leaf("position_ids"), .layoutOnly), LayoutOnlyKey(.leaf("logit_scale"), .layoutOnly)]

    /// A diffusers folder: `unet/`, `vae/`, the text encoders' folders, `unet_ema/`.
    static func diffusers(encoders: [ComponentPrefix]) -> KeyNamespace {
        KeyNamespace(layout: .diffusers,
                     components: [.denoiser("unet/", .diffusers), .vae("vae/", .diffusers)] + encoders,
                     ema: .folder(suffix: "_ema"), layoutOnly: buffers)
    }

    /// An LDM or SGM single file: `model.diffusion_model.`, `first_stage_model.`, the encoders, `model_ema.`.
    static func ldm(_ layout: Layout, encoders: [ComponentPrefix]) -> KeyNamespace {
        KeyNamespace(layout: layout,
                     components: [.denoiser("model.diffusion_model.", .original), .vae("first_stage_model.", .original)] + encoders,
                     ema: .flattened(litEMA), layoutOnly: scheduleBuffers + markers + buffers)
    }

    /// sd-mecha's kohya-flattened single file: `unet.` in the given naming, the VAE, `te.`/`te1.`/`te2.`; no EMA.
    static func kohya(_ unetNaming: ComponentPrefix.Naming, vae: ComponentPrefix, encoders: [ComponentPrefix]) -> KeyNamespace {
        KeyNamespace(layout: .kohyaFlattened, components: [.denoiser("unet.", unetNaming), vae] + encoders,
                     ema: .none, layoutOnly: scheduleBuffers + markers + buffers)
    }
}

/// The key namespaces of one family and the parameters its mapping tables are generated from.
public struct ArchitectureNamespaces: Sendable, Hashable {
    /// The family.
    public var family: ModelFamily
    /// The full-size model as published.
    public var structure: ModelStructure
    /// Its namespace in each layout it is written in.
    public var namespaces: [KeyNamespace]

    public init(family: ModelFamily, structure: ModelStructure, namespaces: [KeyNamespace]) {
        self.family = family
        self.structure = structure
        self.namespaces = namespaces
    }

    /// The namespace in `layout`, or nil if the family is not written in it.
    public func namespace(_ layout: Layout) -> KeyNamespace? {
        namespaces.first { $0.layout == layout }
    }
}
