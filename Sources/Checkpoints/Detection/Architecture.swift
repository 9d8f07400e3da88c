/// A model family, told apart from keys and shapes.
public enum Architecture: String, Sendable, Hashable, Codable, CaseIterable {
    /// Stable Diffusion 1.x: UNet with 1×1-conv projections, 768-wide CLIP-L context.
    case sd1
    /// Stable Diffusion 2.x: SD1's UNet with linear projections, 1024-wide OpenCLIP ViT-H context.
    case sd2
    /// SDXL base: 3-level UNet with an added embedding of width 2816, CLIP-L and OpenCLIP bigG.
    case sdxlBase = "sdxl_base"
    /// SDXL refiner: 4-level 384-channel UNet with an added embedding of width 2560, OpenCLIP bigG only.
    case sdxlRefiner = "sdxl_refiner"
    /// Stable Cascade stage B (the decoder): `clf.1.weight` and `clip_mapper`.
    case stableCascadeB = "stable_cascade_b"
    /// Stable Cascade stage C (the prior): `clf.1.weight` and `clip_txt_mapper`.
    case stableCascadeC = "stable_cascade_c"
    /// Stable Diffusion 3 / 3.5: an MMDiT with `joint_blocks`.
    case sd3
    /// Flux: `double_blocks` and `single_blocks`.
    case flux
    /// No signature matched, or the parts present fit several families.
    case unknown
}
