/// The key correspondence between two layouts of one model, generated from its
/// architecture parameters.
///
/// Every row is one canonical tensor (a diffusers key with its component folder)
/// with its key in the source and the target layout. A fused OpenCLIP
/// `in_proj_weight` appears in three rows, one per part (q, k, v); a key one layout
/// lacks (SD2's 24th resblock in diffusers, OpenCLIP's `logit_scale`) has a nil side.
/// This is what `ckdiff map` prints.
public struct MappingTable: Sendable {
    /// One canonical tensor and its keys in the two layouts.
    public struct Row: Sendable, Hashable, Codable {
        /// The component it belongs to.
        public var component: Component
        /// The canonical key (`unet/down_blocks.0.resnets.0.conv1.weight`).
        public var canonical: String
        /// Its key in the source layout, or nil if that layout does not hold it.
        public var source: String?
        /// The rows of the source tensor that hold it (fused q/k/v), or nil for all.
        public var sourceRows: RowPart?
        /// Its key in the target layout, or nil if that layout does not hold it.
        public var target: String?
        /// The rows of the target tensor that hold it, or nil for all.
        public var targetRows: RowPart?
        /// How the target tensor lines up with the source one.
        public var transform: PairTransform

        enum CodingKeys: String, CodingKey {
            case component, canonical, source, target, transform
            case sourceRows = "source_rows"
            case targetRows = "target_rows"
        }

        /// Encodes every field, a missing side as `null`, so the JSON form has one shape.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(component, forKey: .component)
            try container.encode(canonical, forKey: .canonical)
            try container.encode(source, forKey: .source)
            try container.encode(sourceRows, forKey: .sourceRows)
            try container.encode(target, forKey: .target)
            try container.encode(targetRows, forKey: .targetRows)
            try container.encode(transform, forKey: .transform)
        }

        public init(component: Component, canonical: String, source: String?, sourceRows: RowPart?,
                    target: String?, targetRows: RowPart?, transform: PairTransform) {
            self.component = component
            self.canonical = canonical
            self.source = source
            self.sourceRows = sourceRows
            self.target = target
            self.targetRows = targetRows
            self.transform = transform
        }
    }

    /// The model family.
    public var family: ModelFamily
    /// The parameters the table was generated from.
    public var structure: ModelStructure
    /// The source layout.
    public var from: Layout
    /// The target layout.
    public var to: Layout
    /// The rows: UNet, VAE, text encoders, then EMA copies if asked for.
    public var rows: [Row]

    /// Generates the table from `from` to `to` for a model.
    ///
    /// - Parameters:
    ///   - family: The model family; it decides the text-encoder prefixes and the kohya spellings.
    ///   - from: The source layout; one the family is not written in (``Layout/comfy``, an
    ///     adapter layout) holds none of the keys.
    ///   - to: The target layout (``Layout/diffusers`` gives the canonical keys).
    ///   - structure: The architecture parameters, or nil for the family's published model
    ///     (``ModelStructure/standard(_:)``).
    ///   - includeEMA: Whether to add rows for EMA copies of the UNet (`model_ema.…` ⇄ `unet_ema/…`).
    public static func make(family: ModelFamily, from: Layout, to: Layout,
                            structure: ModelStructure? = nil, includeEMA: Bool = false) -> MappingTable {
        let structure = structure ?? .standard(family)
        let renderer = ModelRenderer(family: family, structure: structure)
        var rows: [Row] = []
        for entry in renderer.entries(includeEMA: includeEMA) {
            let source = renderer.spelling(entry, in: from)
            let target = renderer.spelling(entry, in: to)
            guard source != nil || target != nil else { continue }
            rows.append(Row(
                component: renderer.component(entry.part),
                canonical: renderer.folder(entry.part) + "/" + entry.key,
                source: source?.key, sourceRows: source?.part,
                target: target?.key, targetRows: target?.part,
                transform: PairTransform.between(source?.transform ?? .identity, target?.transform ?? .identity)))
        }
        return MappingTable(family: family, structure: structure, from: from, to: to, rows: rows)
    }

    public init(family: ModelFamily, structure: ModelStructure, from: Layout, to: Layout, rows: [Row]) {
        self.family = family
        self.structure = structure
        self.from = from
        self.to = to
        self.rows = rows
    }
}

extension PairTransform {
    /// How B lines up with A when each is given relative to the same canonical tensor.
    ///
    /// Equal transforms cancel; an identity leaves the other; a reshape against a
    /// transpose (which no layout pair has) counts as a transpose.
    static func between(_ a: PairTransform, _ b: PairTransform) -> PairTransform {
        if a == b { return .identity }
        if a == .identity { return b }
        if b == .identity { return a }
        return .transpose
    }
}
