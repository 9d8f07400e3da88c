/// What a checkpoint is: its layout, its architecture (with the evidence), and the component of each tensor.
public struct CheckpointIdentity: Sendable {
    /// How the keys are spelled.
    public var layout: Layout
    /// The model family (for an adapter, the family it adapts).
    public var architecture: Architecture
    /// The keys and shapes the architecture was decided on, one finding per entry
    /// (`model.diffusion_model.label_emb.0.0.weight [1280, 2816]: added embedding 2816 wide (SDXL base)`).
    public var evidence: [String]
    /// The component of each tensor, by index into ``Checkpoint/tensors``.
    public var components: [Component]
    /// Whether EMA weights are present, and how many.
    public var ema: EMACoverage

    public init(layout: Layout, architecture: Architecture, evidence: [String], components: [Component], ema: EMACoverage) {
        self.layout = layout
        self.architecture = architecture
        self.evidence = evidence
        self.components = components
        self.ema = ema
    }
}

/// How much of the denoiser a checkpoint's EMA copy covers.
public struct EMACoverage: Sendable, Hashable, Codable {
    /// Present, absent or partial.
    public enum Status: String, Sendable, Hashable, Codable {
        /// An EMA tensor for every denoiser tensor (or more).
        case present
        /// No EMA tensors.
        case absent
        /// Fewer EMA tensors than denoiser tensors.
        case partial
    }

    public var status: Status
    /// EMA weight tensors (`model_ema.*` without the `decay` and `num_updates` scalars, or `unet_ema/*`).
    public var tensors: Int
    /// Denoiser tensors they are measured against.
    public var unetTensors: Int

    enum CodingKeys: String, CodingKey {
        case status, tensors
        case unetTensors = "unet_tensors"
    }

    public init(tensors: Int, unetTensors: Int) {
        self.tensors = tensors
        self.unetTensors = unetTensors
        status = tensors == 0 ? .absent : (tensors >= unetTensors ? .present : .partial)
    }
}
