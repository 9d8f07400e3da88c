/// The generated key data of one ``ModelStructure``: every canonical key and its
/// spelling in each layout.
struct ModelRenderer: Sendable {
    /// What a canonical key belongs to.
    enum Part: Sendable, Hashable {
        case unet, ema, vae
        case textEncoder(Int)
    }

    /// A canonical key of the model.
    struct Entry: Sendable, Hashable {
        /// The key without its folder (`down_blocks.0.resnets.0.conv1.weight`).
        var key: String
        /// What it belongs to.
        var part: Part
    }

    /// A key as a layout spells it.
    struct Spelling: Sendable, Hashable {
        /// The full key in the layout.
        var key: String
        /// The rows of that tensor holding the canonical one.
        var part: RowPart?
        /// How the layout's tensor lines up with the canonical one.
        var transform: PairTransform
    }

    let family: ModelFamily
    let structure: ModelStructure
    let unetBlocks: BlockMap?
    let vaeBlocks: BlockMap?
    let textEncoderBlocks: [BlockMap]

    init(family: ModelFamily, structure: ModelStructure) {
        self.family = family
        self.structure = structure
        unetBlocks = structure.unet?.blocks
        vaeBlocks = structure.vae?.blocks
        textEncoderBlocks = structure.textEncoders.map(\.openCLIPBlocks)
    }

    /// The canonical folder of a part.
    func folder(_ part: Part) -> String {
        switch part {
        case .unet: return "unet"
        case .ema: return "unet_ema"
        case .vae: return "vae"
        case .textEncoder(let index): return structure.textEncoders[index].folder
        }
    }

    /// The report component of a part.
    func component(_ part: Part) -> Component {
        switch part {
        case .unet: return .unet
        case .ema: return .ema
        case .vae: return .vae
        case .textEncoder(let index): return structure.textEncoders[index].component
        }
    }

    /// Every canonical key, UNet first, then VAE, text encoders and (if asked) EMA copies.
    func entries(includeEMA: Bool) -> [Entry] {
        var entries: [Entry] = []
        let unetKeys = unetBlocks?.enumerated().map(\.diffusers) ?? []
        entries += unetKeys.map { Entry(key: $0, part: .unet) }
        entries += (vaeBlocks?.enumerated().map(\.diffusers) ?? []).map { Entry(key: $0, part: .vae) }
        for (index, encoder) in structure.textEncoders.enumerated() {
            entries += encoder.canonicalKeys.map { Entry(key: $0, part: .textEncoder(index)) }
        }
        if includeEMA { entries += unetKeys.map { Entry(key: $0, part: .ema) } }
        return entries
    }

    /// How `layout` spells a canonical key, or nil if the layout does not hold it.
    ///
    /// The prefixes and namings are the family's ``KeyNamespace`` in `layout`; text encoder
    /// number `index` sits under the namespace's text encoder of that slot.
    func spelling(_ entry: Entry, in layout: Layout) -> Spelling? {
        guard let namespace = KeyNamespaces.architecture(family).namespace(layout) else { return nil }
        switch entry.part {
        case .unet:
            return namespace.denoiser.flatMap { spell(entry.key, in: $0, blocks: unetBlocks) }
        case .vae:
            return namespace.vae.flatMap { spell(entry.key, in: $0, blocks: vaeBlocks) }
        case .ema:
            switch namespace.ema {
            case .none:
                return nil
            case .folder(let suffix):
                return Spelling(key: folder(.unet) + suffix + "/" + entry.key, part: nil, transform: .identity)
            case .flattened:
                guard let original = unetBlocks?.original(forDiffusers: entry.key) else { return nil }
                return Spelling(key: EMAKey.flat(original.key), part: original.part, transform: original.transform)
            }
        case .textEncoder(let index):
            let encoders = namespace.textEncoders
            guard index < encoders.count else { return nil }
            let place = encoders[index]
            let prefix = place.spelled(slot: place.slot ?? index)
            let encoder = structure.textEncoders[index]
            let originalNaming = place.naming == .original
            if originalNaming && encoder.usesOpenCLIPNaming {
                if let layer = TextEncoderConfig.layerIndex(of: entry.key), layer >= encoder.layers { return nil }
                if entry.key == "text_projection.weight" && !encoder.hasProjection { return nil }
                guard let original = textEncoderBlocks[index].original(forDiffusers: entry.key) else { return nil }
                return Spelling(key: prefix + original.key, part: original.part, transform: original.transform)
            }
            let present = originalNaming
                ? (TextEncoderConfig.layerIndex(of: entry.key).map { $0 < encoder.layers } ?? true) && entry.key != "logit_scale"
                    && (entry.key != "text_projection.weight" || encoder.hasProjection)
                : encoder.hfHas(entry.key)
            return present ? Spelling(key: prefix + entry.key, part: nil, transform: .identity) : nil
        }
    }

    private func spell(_ key: String, in place: ComponentPrefix, blocks: BlockMap?) -> Spelling? {
        guard place.naming == .original else { return Spelling(key: place.prefix + key, part: nil, transform: .identity) }
        guard let original = blocks?.original(forDiffusers: key) else { return nil }
        return Spelling(key: place.prefix + original.key, part: original.part, transform: original.transform)
    }
}
