/// A Stable Diffusion model family whose keys ckdiff maps between layouts.
public enum ModelFamily: String, Sendable, Hashable, CaseIterable, Codable {
    /// SD 1.x: UNet, VAE, CLIP-L.
    case sd1
    /// SD 2.x: UNet with linear projections, VAE, OpenCLIP ViT-H.
    case sd2
    /// SDXL base: UNet, VAE, CLIP-L and OpenCLIP ViT-bigG.
    case sdxlBase = "sdxl_base"
    /// SDXL refiner: UNet, VAE, OpenCLIP ViT-bigG only.
    case sdxlRefiner = "sdxl_refiner"

    /// Whether the family is SDXL (base or refiner).
    public var isSDXL: Bool { self == .sdxlBase || self == .sdxlRefiner }

    /// Reads a family name: the raw values and the common short forms (`sdxl` = `sdxl_base`,
    /// `sd15` = `sd1`, `sd21` = `sd2`, `refiner`).
    public init?(name: String) {
        switch name.lowercased() {
        case "sd1", "sd15", "sd1.5", "sd-1", "v1": self = .sd1
        case "sd2", "sd21", "sd2.1", "sd20", "v2": self = .sd2
        case "sdxl", "sdxl_base", "sdxl-base", "xl", "xl_base": self = .sdxlBase
        case "sdxl_refiner", "sdxl-refiner", "refiner", "xl_refiner": self = .sdxlRefiner
        default: return nil
        }
    }
}
