import Safetensors

/// What a checkpoint is: its layout, its architecture (with the evidence), and the component of each tensor.
public struct CheckpointIdentity: Sendable {
    public var layout: Layout
    public var architecture: Architecture
    /// The keys and shapes the architecture was decided on, for people to check.
    public var evidence: String
    /// The component of each tensor, by index into ``Checkpoint/tensors``.
    public var components: [Component]
}

extension Checkpoint {
    /// Detects layout, architecture and per-tensor components from names and shapes only.
    ///
    /// Structure decides first (which namespaces exist, whether there is a second text
    /// encoder, `label_emb`/`add_embedding`, OpenCLIP towers), shapes confirm (context
    /// width 768 for SD1 and 1024 for SD2, `label_emb` input 2816 for SDXL base and 2560
    /// for the refiner), so scaled-down test models with the real topology are recognised
    /// too. Signatures follow diffusers' `infer_diffusers_model_type` and ComfyUI's
    /// `model_detection.py`.
    public func identify(scheme: KeyScheme? = nil) -> CheckpointIdentity {
        let scheme = scheme ?? KeyScheme(self)
        var components: [Component] = []
        components.reserveCapacity(tensors.count)
        for (i, tensor) in tensors.enumerated() {
            if let first = scheme.targets[i].first {
                components.append(first.component)
            } else if tensor.key.hasPrefix("model_ema.") || tensor.folder == "unet_ema" {
                components.append(.ema)
            } else {
                components.append(.other)
            }
        }
        let layout = detectLayout()
        let (architecture, evidence) = detectArchitecture(layout: layout, scheme: scheme, components: components)
        return CheckpointIdentity(layout: layout, architecture: architecture, evidence: evidence, components: components)
    }

    private func detectLayout() -> Layout {
        if storage != .singleFile || componentFolderHint != nil { return .diffusers }
        let keys = tensors.map(\.key)
        func any(_ predicate: (String) -> Bool) -> Bool { keys.contains(where: predicate) }
        if any({ $0.hasPrefix("lora_unet_") || $0.hasPrefix("lora_te") || $0.hasPrefix("lycoris_") }) {
            if any({ $0.contains(".hada_") || $0.contains(".lokr_") || $0.hasSuffix(".diff") || $0.contains(".oft_") }) {
                return .loraLyCORIS
            }
            return .loraKohya
        }
        if any({ $0.contains(".lora_A.") || $0.contains(".lora_B.") || $0.contains(".lora.down.") || $0.contains("lora_linear_layer.") }) {
            return .loraPEFT
        }
        if any({ $0.hasPrefix("conditioner.embedders.") }) { return .sgm }
        if any({ $0.hasPrefix("model.diffusion_model.") || $0.hasPrefix("first_stage_model.") || $0.hasPrefix("cond_stage_model.") }) {
            return .ldm
        }
        if any({ $0.hasPrefix("unet.") || $0.hasPrefix("te.") || $0.hasPrefix("te1.") || $0.hasPrefix("te2.") }) {
            return .kohyaFlattened
        }
        if any({ $0.hasPrefix("down_blocks.") || $0 == "conv_in.weight" || $0.hasPrefix("encoder.down_blocks.")
                 || $0.hasPrefix("text_model.") || $0.hasPrefix("transformer_blocks.") }) {
            return .diffusers
        }
        return .unknown
    }

    private func detectArchitecture(layout: Layout, scheme: KeyScheme, components: [Component]) -> (Architecture, String) {
        var shapeByKey: [String: [Int]] = [:]
        for tensor in tensors { shapeByKey[tensor.key] = tensor.info.shape }
        func shape(_ suffix: String) -> (String, [Int])? {
            for tensor in tensors where tensor.key.hasSuffix(suffix) { return (tensor.name, tensor.info.shape) }
            return nil
        }
        func describe(_ found: (String, [Int])) -> String { "\(found.0) \(found.1)" }
        func has(_ fragment: String) -> Bool { tensors.contains { $0.key.contains(fragment) } }

        // Transformer families and Stable Cascade, whose keys ckdiff does not map yet.
        if let found = shape("double_blocks.0.img_attn.norm.key_norm.scale") { return (.flux, describe(found)) }
        if let found = shape("joint_blocks.0.context_block.adaLN_modulation.1.bias") { return (.sd3, describe(found)) }
        if has("joint_blocks.0.x_block.") { return (.sd3, "joint_blocks.0.x_block.*") }
        if let found = shape("clip_txt_mapper.weight") { return (.stableCascadeC, describe(found)) }
        if let found = shape("clip_mapper.weight") { return (.stableCascadeB, describe(found)) }
        if has("down_blocks.1.0.channelwise.") { return (.stableCascadeB, "down_blocks.1.0.channelwise.*") }

        // LoRA files: the text-encoder namespaces tell SDXL from SD1/SD2.
        if [.loraKohya, .loraLyCORIS, .loraPEFT].contains(layout) {
            if has("lora_te2_") || has("text_encoder_2.") { return (.sdxlBase, "a second text encoder (lora_te2_/text_encoder_2.)") }
            if has("input_blocks_") && has("lora_unet_") { return (.sdxlBase, "UNet LoRA keys in SGM naming (kohya SDXL)") }
            return (.unknown, "LoRA without SDXL text-encoder keys; SD1 and SD2 LoRAs share names")
        }

        // UNet-based Stable Diffusion: refiner, base, SD2, SD1.
        let hasOpenCLIP = components.contains(.openCLIP)
        let hasCLIPL = components.contains(.clipL)
        let addEmbedding = shape("label_emb.0.0.weight") ?? shape("add_embedding.linear_1.weight")
        if let add = addEmbedding, add.1.count == 2 {
            if add.1[1] == 2560 { return (.sdxlRefiner, describe(add)) }
            if add.1[1] == 2816 { return (.sdxlBase, describe(add)) }
        }
        if has("conditioner.embedders.0.model.") && !has("conditioner.embedders.1.") {
            return (.sdxlRefiner, "OpenCLIP at conditioner.embedders.0 and no second embedder")
        }
        if scheme.looksLikeSDXL || addEmbedding != nil {
            if hasOpenCLIP && !hasCLIPL && addEmbedding != nil {
                return (.sdxlRefiner, "an OpenCLIP encoder, no CLIP-L, and an added embedding: \(addEmbedding.map(describe) ?? "")")
            }
            let why = addEmbedding.map(describe) ?? "a second text encoder"
            return (.sdxlBase, why)
        }
        let crossAttention = tensors.first { $0.key.hasSuffix("attn2.to_k.weight") && $0.info.shape.count == 2 }
        if let attention = crossAttention {
            let width = attention.info.shape[1]
            if width == 1024 { return (.sd2, "\(attention.name) \(attention.info.shape): context width 1024") }
            if width == 768 { return (.sd1, "\(attention.name) \(attention.info.shape): context width 768") }
        }
        if hasOpenCLIP && !hasCLIPL { return (.sd2, "an OpenCLIP ViT-H text encoder and no second encoder") }
        if crossAttention != nil || hasCLIPL || components.contains(.unet) {
            let what = crossAttention.map { "\($0.name) \($0.info.shape)" } ?? "a UNet or CLIP-L without SDXL's added embedding"
            return (.sd1, "\(what); no added embedding, no second text encoder, no OpenCLIP tower")
        }
        if components.contains(.vae) { return (.unknown, "a VAE alone fits every SD family") }
        return (.unknown, "no known signature")
    }
}
