/// Tells the model family of a checkpoint from its keys and shapes, saying what it went on.
///
/// Structure decides first, shapes confirm, so that scaled-down models with the real
/// topology (the test pipelines) are recognised as well as full-size ones:
///
/// * Transformer families by their blocks: Flux `double_blocks` (diffusers:
///   `single_transformer_blocks` with `x_embedder`), SD3 `joint_blocks` (diffusers:
///   `transformer_blocks.0.attn.add_q_proj` with `pos_embed`), Stable Cascade `clf.1.weight`
///   with `clip_txt_mapper` (stage C) or `clip_mapper`/`clip_txt_pooled_mapper` (stage B).
/// * UNets through ``UNetConfig`` (ComfyUI's `detect_unet_config`, on LDM or diffusers
///   names): an added embedding (`label_emb`/`add_embedding`) makes SDXL, with 3 levels the
///   base and 4 the refiner (width 2816 or 2560 confirms); without one, a 1024-wide context
///   or linear projections make SD2, a 768-wide context or 1×1-conv projections SD1.
/// * Without a denoiser, the text encoders: CLIP-L with OpenCLIP is SDXL base, OpenCLIP
///   alone 1280 wide the refiner and 1024 wide SD2.
/// * Adapters by the modules they touch: a second text encoder or SGM UNet names is SDXL,
///   the input width of a cross-attention `to_k` down-projection tells 768/1024/2048.
/// * `model_index.json`'s pipeline class decides what the weights leave open, and is
///   reported as agreeing or not.
///
/// Signatures follow diffusers' `infer_diffusers_model_type` and ComfyUI's
/// `model_detection.py` (checkpoint-formats §10). Every lookup is a dictionary access or
/// one pass over the keys.
struct ArchitectureDetector {
    let checkpoint: Checkpoint
    let layout: Layout
    let assignments: [ComponentClassifier.Assignment]
    /// Tensor index by denoiser-local key (the key without its namespace), first denoiser only.
    private let denoiser: [String: Int]
    /// The folder of the denoiser, when it comes from one (`prior`, `unet`, …).
    private let denoiserFolder: String?
    /// Token-embedding width of the text encoders, by component.
    private let encoderWidths: [Component: (width: Int, tensor: Int)]
    private let components: Set<Component>

    init(_ checkpoint: Checkpoint, layout: Layout, assignments: [ComponentClassifier.Assignment]) {
        self.checkpoint = checkpoint
        self.layout = layout
        self.assignments = assignments
        var denoiser: [String: Int] = [:]
        var folder: String?
        var firstNamespace: String?
        var widths: [Component: (width: Int, tensor: Int)] = [:]
        var components = Set<Component>()
        for (index, tensor) in checkpoint.tensors.enumerated() {
            let assignment = assignments[index]
            components.insert(assignment.component)
            switch assignment.component {
            case .unet where !layout.isAdapter:
                let namespace = tensor.folder.map { $0 + "/" } ?? assignment.namespace
                if firstNamespace == nil {
                    firstNamespace = namespace
                    folder = tensor.folder ?? checkpoint.componentFolderHint
                }
                guard namespace == firstNamespace else { continue }
                let local = tensor.folder == nil ? String(tensor.key.dropFirst(assignment.namespace.count)) : tensor.key
                if denoiser[local] == nil { denoiser[local] = index }
            case .clipL, .openCLIP:
                if widths[assignment.component] == nil, tensor.key.hasSuffix("token_embedding.weight"), tensor.info.shape.count == 2 {
                    widths[assignment.component] = (tensor.info.shape[1], index)
                }
            default:
                break
            }
        }
        self.denoiser = denoiser
        self.denoiserFolder = folder
        self.encoderWidths = widths
        self.components = components
    }

    /// The family and the evidence, one finding per line.
    func detect() -> (Architecture, [String]) {
        var (architecture, evidence) = weightsFamily()
        if let pipeline = checkpoint.pipelineClass {
            let says = ArchitectureDetector.families(ofPipeline: pipeline)
            if architecture == .unknown, says.count == 1, let only = says.first {
                architecture = only
                evidence.append("model_index.json _class_name \(pipeline)")
            } else if architecture == .unknown, says == [.sd1, .sd2], encoderWidths[.clipL] != nil {
                architecture = .sd1
                evidence.append("model_index.json _class_name \(pipeline) with a CLIP-L text encoder")
            } else if says.contains(architecture) {
                evidence.append("model_index.json _class_name \(pipeline) agrees")
            } else if !says.isEmpty {
                evidence.append("model_index.json _class_name \(pipeline) suggests \(says.map(\.rawValue).joined(separator: " or ")), the weights do not")
            }
        }
        return (architecture, evidence)
    }

    /// The family the weights alone show.
    private func weightsFamily() -> (Architecture, [String]) {
        if layout.isAdapter { return adapterFamily() }
        if let found = transformerFamily() { return found }
        if let found = unetFamily() {
            var (architecture, evidence) = found
            if let encoders = encoderSummary() { evidence.append(encoders) }
            return (architecture, evidence)
        }
        // A denoiser that matched nothing above says so before the encoders speak.
        let unmatched = denoiser.isEmpty ? [] : ["\(denoiser.count) denoiser tensors with no known UNet or transformer signature"]
        if let found = encoderFamily() { return (found.0, unmatched + found.1) }
        if !unmatched.isEmpty { return (.unknown, unmatched) }
        if components.contains(.vae) { return (.unknown, ["a VAE alone fits every Stable Diffusion family"]) }
        return (.unknown, ["no known signature"])
    }

    // MARK: - Denoisers

    /// The tensor name and shape of a denoiser-local key, as evidence.
    private func cite(_ local: String) -> String {
        guard let index = denoiser[local] else { return local }
        return Self.cite(checkpoint.tensors[index])
    }

    static func cite(_ tensor: Checkpoint.Tensor) -> String {
        "\(tensor.name) \(tensor.info.shapeDescription)"
    }

    /// Flux, SD3 and Stable Cascade.
    private func transformerFamily() -> (Architecture, [String])? {
        if denoiser.isEmpty { return nil }
        for key in ["double_blocks.0.img_attn.norm.key_norm.scale", "double_blocks.0.img_attn.qkv.weight"] where denoiser[key] != nil {
            return (.flux, ["\(cite(key)): Flux double blocks"])
        }
        if denoiser["single_transformer_blocks.0.attn.to_q.weight"] != nil || denoiser["single_transformer_blocks.0.norm.linear.weight"] != nil,
           denoiser["x_embedder.weight"] != nil {
            return (.flux, ["\(cite("x_embedder.weight")) with single_transformer_blocks: Flux in diffusers naming"])
        }
        for key in ["joint_blocks.0.context_block.adaLN_modulation.1.bias", "joint_blocks.0.x_block.attn.qkv.weight"] where denoiser[key] != nil {
            return (.sd3, ["\(cite(key)): SD3 joint blocks"])
        }
        if denoiser["transformer_blocks.0.attn.add_q_proj.weight"] != nil, denoiser["pos_embed.proj.weight"] != nil {
            return (.sd3, ["\(cite("transformer_blocks.0.attn.add_q_proj.weight")) with pos_embed.proj: SD3 in diffusers naming"])
        }
        if denoiser["clf.1.weight"] != nil {
            if denoiser["clip_txt_mapper.weight"] != nil {
                return (.stableCascadeC, ["\(cite("clf.1.weight")) and \(cite("clip_txt_mapper.weight")): Stable Cascade stage C"])
            }
            for key in ["clip_mapper.weight", "clip_txt_pooled_mapper.weight"] where denoiser[key] != nil {
                return (.stableCascadeB, ["\(cite("clf.1.weight")) and \(cite(key)): Stable Cascade stage B"])
            }
            switch denoiserFolder {
            case "prior": return (.stableCascadeC, ["\(cite("clf.1.weight")) in prior/: Stable Cascade stage C"])
            case "decoder": return (.stableCascadeB, ["\(cite("clf.1.weight")) in decoder/: Stable Cascade stage B"])
            default: return (.unknown, ["\(cite("clf.1.weight")): Stable Cascade, but neither stage's text mapper"])
            }
        }
        return nil
    }

    /// SD1, SD2, SDXL base and refiner, from the UNet's structure and shapes.
    private func unetFamily() -> (Architecture, [String])? {
        let ldm = denoiser["input_blocks.0.0.weight"] != nil
        let diffusers = denoiser["conv_in.weight"] != nil
        guard ldm || diffusers else { return nil }
        var shapes: [String: [Int]] = [:]
        shapes.reserveCapacity(denoiser.count)
        for (key, index) in denoiser { shapes[key] = checkpoint.tensors[index].info.shape }
        let config = ldm ? UNetConfig.detect(ldmShapes: shapes) : UNetConfig.detect(diffusersShapes: shapes)
        let labelKey = ldm ? "label_emb.0.0.weight" : "add_embedding.linear_1.weight"
        guard let config else { return incompleteUNetFamily(ldm: ldm, labelKey: labelKey) }

        var evidence: [String] = []
        let levels = config.channelMult.count
        let structure = "UNet of \(levels) levels, \(config.modelChannels) channels, transformer depth \(config.transformerDepth)"
        if let adm = config.admInChannels {
            let refiner: Bool
            switch (levels, adm) {
            case (3, _): refiner = false
            case (4, _): refiner = true
            default: refiner = adm == 2560 || config.modelChannels == 384
            }
            let expected = refiner ? 2560 : 2816
            let label = denoiser[labelKey] != nil ? cite(labelKey) : "class_embedding.linear_1.weight"
            if adm == expected {
                evidence.append("\(label): added embedding \(adm) wide (SDXL \(refiner ? "refiner" : "base"))")
            } else {
                evidence.append("\(label): an added embedding (SDXL), \(adm) wide where full-size SDXL \(refiner ? "refiner" : "base") has \(expected): decided by structure")
            }
            evidence.append(structure + (refiner ? " (refiner: 4 levels)" : " (base: 3 levels)"))
            return (refiner ? .sdxlRefiner : .sdxlBase, evidence)
        }

        let toK = crossAttentionKey(ldm: ldm)
        let context = config.contextDim
        let sd2: Bool
        let why: String
        switch context {
        case 768:
            sd2 = false
            why = "context 768 wide (SD1's CLIP-L)"
        case 1024:
            sd2 = true
            why = "context 1024 wide (SD2's OpenCLIP ViT-H)"
        default:
            sd2 = config.useLinearInTransformer
            why = (context.map { "context \($0) wide, " } ?? "") + (sd2 ? "linear projections (SD2)" : "1×1-conv projections (SD1)")
                + ": decided by structure"
        }
        evidence.append((toK.map { "\(cite($0)): " } ?? "") + why)
        evidence.append(structure + ", no added embedding")
        return (sd2 ? .sd2 : .sd1, evidence)
    }

    /// The family of a UNet too incomplete to read its parameters, from single keys.
    ///
    /// The added embedding's input width tells SDXL base (2816) from the refiner (2560); a
    /// cross-attention `to_k` tells the context width (768 SD1, 1024 SD2, 2048 SDXL base,
    /// 1280 refiner). An added embedding of another width is SDXL, base or refiner by the
    /// text encoders beside it (bigG without CLIP-L is the refiner). With neither key, nil:
    /// the text encoders decide.
    private func incompleteUNetFamily(ldm: Bool, labelKey: String) -> (Architecture, [String])? {
        let incomplete = "the UNet is incomplete"
        if let index = denoiser[labelKey] {
            let shape = checkpoint.tensors[index].info.shape
            switch shape.count == 2 ? shape[1] : nil {
            case 2816: return (.sdxlBase, ["\(cite(labelKey)): added embedding 2816 wide (SDXL base); \(incomplete)"])
            case 2560: return (.sdxlRefiner, ["\(cite(labelKey)): added embedding 2560 wide (SDXL refiner); \(incomplete)"])
            default:
                let refiner = components.contains(.openCLIP) && !components.contains(.clipL)
                let encoders = refiner ? "OpenCLIP without CLIP-L (SDXL refiner)" : "SDXL base"
                return (refiner ? .sdxlRefiner : .sdxlBase, ["\(cite(labelKey)): an added embedding (SDXL), \(encoders); \(incomplete)"])
            }
        }
        guard let toK = crossAttentionKey(ldm: ldm), let index = denoiser[toK] else { return nil }
        let shape = checkpoint.tensors[index].info.shape
        let family: (Architecture, String)
        switch shape.count == 2 ? shape[1] : nil {
        case 768: family = (.sd1, "context 768 wide (SD1's CLIP-L)")
        case 1024: family = (.sd2, "context 1024 wide (SD2's OpenCLIP ViT-H)")
        case 2048: family = (.sdxlBase, "context 2048 wide (SDXL base)")
        case 1280: family = (.sdxlRefiner, "context 1280 wide (SDXL refiner)")
        default: return nil
        }
        return (family.0, ["\(cite(toK)): \(family.1); \(incomplete)"])
    }

    /// The first cross-attention `to_k` weight of the UNet, as its context width shows there.
    private func crossAttentionKey(ldm: Bool) -> String? {
        let candidates = ldm
            ? ["input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight",
               "middle_block.1.transformer_blocks.0.attn2.to_k.weight"]
            : ["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
               "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight",
               "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight"]
        return candidates.first { denoiser[$0] != nil }
    }

    // MARK: - Text encoders

    /// One line on the text encoders present, for the evidence.
    private func encoderSummary() -> String? {
        var parts: [String] = []
        for component in [Component.clipL, .openCLIP] where components.contains(component) {
            parts.append(component.displayName + (encoderWidths[component].map { " \($0.width) wide" } ?? ""))
        }
        return parts.isEmpty ? nil : "text encoders: " + parts.joined(separator: ", ")
    }

    /// The family from text encoders alone (a file without a denoiser).
    private func encoderFamily() -> (Architecture, [String])? {
        let clip = encoderWidths[.clipL]
        let open = encoderWidths[.openCLIP]
        func describe(_ found: (width: Int, tensor: Int)?) -> String {
            found.map { Self.cite(checkpoint.tensors[$0.tensor]) } ?? "no token embedding"
        }
        if components.contains(.clipL) && components.contains(.openCLIP) {
            return (.sdxlBase, ["CLIP-L (\(describe(clip))) and OpenCLIP (\(describe(open))) text encoders: SDXL base"])
        }
        if components.contains(.openCLIP) {
            let namespaces = Set(assignments.lazy.filter { $0.component == .openCLIP }.map(\.namespace))
            let folders = Set(checkpoint.tensors.compactMap(\.folder))
            if open?.width == 1280 || namespaces.contains("conditioner.embedders.0.model.") || folders.contains("text_encoder_2") {
                return (.sdxlRefiner, ["OpenCLIP bigG (\(describe(open))) without CLIP-L: SDXL refiner"])
            }
            if open?.width == 1024 || namespaces.contains("cond_stage_model.model.") {
                return (.sd2, ["OpenCLIP ViT-H (\(describe(open))) alone: SD2"])
            }
            return (.unknown, ["an OpenCLIP text encoder alone (\(describe(open)))"])
        }
        if components.contains(.clipL) {
            return (.unknown, ["a CLIP-L text encoder alone (\(describe(clip))) fits SD1 and SDXL"])
        }
        return nil
    }

    // MARK: - Adapters

    /// The base family of a LoRA or LyCORIS file.
    private func adapterFamily() -> (Architecture, [String]) {
        var sdxlEncoder: String?
        var sgmUNet: String?
        var flux: String?
        var sd3: String?
        var contextWidth: (width: Int, name: String)?
        var encoderWidth: (width: Int, name: String)?
        for tensor in checkpoint.tensors {
            let key = tensor.key
            if sdxlEncoder == nil, key.hasPrefix("lora_te1_") || key.hasPrefix("lora_te2_") || key.hasPrefix("text_encoder_2.") {
                sdxlEncoder = tensor.name
            }
            if sgmUNet == nil, key.hasPrefix("lora_unet_input_blocks_") || key.hasPrefix("lora_unet_output_blocks_")
                || key.hasPrefix("lora_unet_middle_block_") {
                sgmUNet = tensor.name
            }
            if flux == nil, KeyText.contains(key, "double_blocks") || KeyText.contains(key, "single_blocks") || KeyText.contains(key, "single_transformer_blocks") {
                flux = tensor.name
            }
            if sd3 == nil, KeyText.contains(key, "joint_blocks") { sd3 = tensor.name }
            let isDown = KeyText.contains(key, "lora_down.weight") || KeyText.contains(key, "lora_A.weight") || KeyText.contains(key, "lora.down.weight")
            guard isDown, tensor.info.shape.count == 2 else { continue }
            if contextWidth == nil, KeyText.contains(key, "attn2_to_k") || KeyText.contains(key, "attn2.to_k") {
                contextWidth = (tensor.info.shape[1], ArchitectureDetector.cite(tensor))
            }
            if encoderWidth == nil, KeyText.contains(key, "self_attn_q_proj") || KeyText.contains(key, "self_attn.q_proj") {
                encoderWidth = (tensor.info.shape[1], ArchitectureDetector.cite(tensor))
            }
        }
        if let flux { return (.flux, ["\(flux): adapts Flux blocks"]) }
        if let sd3 { return (.sd3, ["\(sd3): adapts SD3 joint blocks"]) }
        if let context = contextWidth {
            switch context.width {
            case 2048: return (.sdxlBase, ["\(context.name): cross-attention context 2048 wide (SDXL)"])
            case 1024: return (.sd2, ["\(context.name): cross-attention context 1024 wide (SD2)"])
            case 768: return (.sd1, ["\(context.name): cross-attention context 768 wide (SD1)"])
            default: break
            }
        }
        if let sdxlEncoder { return (.sdxlBase, ["\(sdxlEncoder): adapts two text encoders (SDXL)"]) }
        if let sgmUNet { return (.sdxlBase, ["\(sgmUNet): UNet modules in SGM naming, which kohya uses for SDXL"]) }
        if let encoder = encoderWidth {
            if encoder.width == 768 { return (.sd1, ["\(encoder.name): text encoder 768 wide (SD1's CLIP-L)"]) }
            if encoder.width == 1024 { return (.sd2, ["\(encoder.name): text encoder 1024 wide (SD2's OpenCLIP ViT-H)"]) }
        }
        return (.unknown, ["an adapter whose modules and widths fit several families"])
    }

    // MARK: - Pipelines

    /// The families a diffusers pipeline class name stands for.
    static func families(ofPipeline name: String) -> [Architecture] {
        if name.hasPrefix("StableCascadePrior") { return [.stableCascadeC] }
        if name.hasPrefix("StableCascade") { return [.stableCascadeB] }
        if name.hasPrefix("StableDiffusion3") { return [.sd3] }
        if name.hasPrefix("Flux") { return [.flux] }
        if name.hasPrefix("StableDiffusionXL") { return [.sdxlBase, .sdxlRefiner] }
        if name.hasPrefix("StableDiffusion") { return [.sd1, .sd2] }
        return []
    }
}
