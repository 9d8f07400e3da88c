/// How one checkpoint's tensors map to canonical keys.
///
/// The canonical key space is diffusers naming with the component folder as prefix
/// (`unet/down_blocks.0.resnets.0.conv1.weight`, `vae/…`, `text_encoder/…`,
/// `text_encoder_2/…`, `unet_ema/…`). A scheme reads where each component sits from
/// the tensor names (folders, single-file prefixes such as `model.diffusion_model.`,
/// `conditioner.embedders.1.model.`, `te2.`), detects the architecture parameters of
/// every part stored in original naming from its keys and shapes (as ComfyUI's
/// `detect_unet_config` does), and resolves each tensor through the mapping data
/// generated from them. Nothing is assumed about the tool that wrote the file.
public struct KeyScheme: Sendable {
    /// A canonical tensor that a checkpoint tensor holds.
    public struct Target: Sendable, Hashable {
        /// The canonical key (`text_encoder_2/text_model.encoder.layers.0.self_attn.q_proj.weight`).
        public var canonical: String
        /// The part of the checkpoint tensor that holds it (q, k or v of a fused tensor), or nil for all of it.
        public var part: RowPart?
        /// The rows of the checkpoint tensor that hold it, or nil for all of them.
        public var rows: Range<Int>?
        /// How the checkpoint tensor lines up with the canonical one (`reshape`, `transpose`).
        public var transform: PairTransform
        /// The component it belongs to.
        public var component: Component

        public init(canonical: String, part: RowPart? = nil, rows: Range<Int>? = nil,
                    transform: PairTransform = .identity, component: Component) {
            self.canonical = canonical
            self.part = part
            self.rows = rows
            self.transform = transform
            self.component = component
        }
    }

    /// What the scheme found about one text encoder (by canonical folder).
    struct EncoderInfo: Sendable, Hashable {
        /// Layers present (highest layer index + 1).
        var layers: Int = 0
        /// Whether a `text_projection` is present.
        var hasProjection = false
        /// The report component.
        var component: Component = .clipL
    }

    /// The canonical tensors each checkpoint tensor holds, by tensor index (empty when unknown).
    public let targets: [[Target]]
    /// Text encoders found, by canonical folder.
    let encoders: [String: EncoderInfo]
    /// Whether the checkpoint looks like SDXL (a second text encoder, or a UNet with `label_emb`/`add_embedding`).
    public let looksLikeSDXL: Bool

    /// The canonical keys present, each once.
    public var canonicalKeys: Set<String> {
        Set(targets.joined().map(\.canonical))
    }

    /// A scheme with given targets (see ``KeyScheme/denoiser(_:)``).
    init(targets: [[Target]], encoders: [String: EncoderInfo], looksLikeSDXL: Bool) {
        self.targets = targets
        self.encoders = encoders
        self.looksLikeSDXL = looksLikeSDXL
    }

    /// Builds the scheme of a checkpoint from its tensor names and shapes.
    public init(_ checkpoint: Checkpoint) {
        let resolver = SchemeResolver(checkpoint)
        targets = resolver.resolve()
        var encoders: [String: EncoderInfo] = [:]
        for list in targets {
            for target in list {
                let (folder, key) = KeyScheme.split(target.canonical)
                guard folder.hasPrefix("text_encoder") else { continue }
                var info = encoders[folder] ?? EncoderInfo()
                info.component = target.component
                if let layer = TextEncoderConfig.layerIndex(of: key) { info.layers = max(info.layers, layer + 1) }
                if key == "text_projection.weight" { info.hasProjection = true }
                encoders[folder] = info
            }
        }
        self.encoders = encoders
        looksLikeSDXL = encoders["text_encoder_2"] != nil || targets.joined().contains {
            $0.canonical.hasPrefix("unet/add_embedding.")
        }
    }

    /// Splits a canonical key into its folder and the key inside it.
    static func split(_ canonical: String) -> (folder: String, key: String) {
        guard let slash = canonical.firstIndex(of: "/") else { return ("", canonical) }
        return (String(canonical[..<slash]), String(canonical[canonical.index(after: slash)...]))
    }
}
