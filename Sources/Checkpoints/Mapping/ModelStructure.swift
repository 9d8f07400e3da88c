/// The architecture parameters of a whole model: what its mapping tables are generated from.
public struct ModelStructure: Sendable, Hashable, Codable {
    /// The UNet, if the model has one.
    public var unet: UNetConfig?
    /// The VAE, if the model has one.
    public var vae: VAEConfig?
    /// The text encoders, in conditioning order (`conditioner.embedders.N`).
    public var textEncoders: [TextEncoderConfig]

    public init(unet: UNetConfig?, vae: VAEConfig?, textEncoders: [TextEncoderConfig]) {
        self.unet = unet
        self.vae = vae
        self.textEncoders = textEncoders
    }

    /// The full-size model of a family, as published (``ArchitectureNamespaces/structure``).
    public static func standard(_ family: ModelFamily) -> ModelStructure {
        KeyNamespaces.architecture(family).structure
    }
}
