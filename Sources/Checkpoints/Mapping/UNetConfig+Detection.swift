extension UNetConfig {
    /// Reads the parameters of a UNet from its LDM/SGM keys and shapes (prefix stripped),
    /// as ComfyUI's `detect_unet_config` does.
    ///
    /// Levels end at each downsampler (`input_blocks.N.0.op.weight`); a level's channel
    /// multiplier is its resnets' output width over `model_channels`; transformer depth
    /// is the number of `transformer_blocks.N` after a resnet; `use_linear_in_transformer`
    /// is whether `proj_in.weight` is 2-D. Returns nil without `input_blocks.0.0.weight`.
    ///
    /// The keys are read through ``KeyShapeProbe``: as stored (``KeyShapes``) or as LitEma's
    /// dot-stripped EMA names (``FlatKeyShapes``).
    static func detect<Keys: KeyShapeProbe>(ldm keys: Keys) -> UNetConfig? {
        guard let convIn = keys.shape("input_blocks.0.0.weight"), let modelChannels = convIn.first, modelChannels > 0 else {
            return nil
        }
        var numResBlocks: [Int] = []
        var channelMult: [Int] = []
        var depth: [Int] = []
        var depthOutput: [Int] = []
        var contextDim: Int?
        var linear = false
        var lastResBlocks = 0
        var lastMult = 0

        func transformer(_ prefix: String) -> Int {
            let blocks = keys.count(prefix + "1.transformer_blocks.")
            if blocks > 0 {
                if contextDim == nil, let toK = keys.shape(prefix + "1.transformer_blocks.0.attn2.to_k.weight"), toK.count == 2 {
                    contextDim = toK[1]
                    linear = keys.shape(prefix + "1.proj_in.weight")?.count == 2
                }
            }
            return blocks
        }

        let inputCount = keys.count("input_blocks.")
        for index in 0..<inputCount {
            let prefix = "input_blocks.\(index)."
            let outputPrefix = "output_blocks.\(inputCount - index - 1)."
            if keys.has(prefix + "0.op.weight") {
                numResBlocks.append(lastResBlocks)
                channelMult.append(lastMult)
                lastResBlocks = 0
                lastMult = 0
                depthOutput.append(transformer(outputPrefix))
            } else {
                if keys.has(prefix + "0.in_layers.0.weight") {
                    lastResBlocks += 1
                    if let out = keys.shape(prefix + "0.out_layers.3.weight")?.first { lastMult = out / modelChannels }
                    depth.append(transformer(prefix))
                }
                if keys.has(outputPrefix + "0.in_layers.0.weight") {
                    depthOutput.append(transformer(outputPrefix))
                }
            }
        }
        numResBlocks.append(lastResBlocks)
        channelMult.append(lastMult)

        let middle: Int
        if keys.has("middle_block.1.proj_in.weight") {
            middle = keys.count("middle_block.1.transformer_blocks.")
        } else if keys.has("middle_block.0.in_layers.0.weight") {
            middle = -1
        } else {
            middle = -2
        }
        let adm = keys.shape("label_emb.0.0.weight").flatMap { $0.count == 2 ? $0[1] : nil }
        let config = UNetConfig(
            modelChannels: modelChannels, channelMult: channelMult, numResBlocks: numResBlocks,
            transformerDepth: depth, transformerDepthOutput: depthOutput, transformerDepthMiddle: middle,
            admInChannels: adm, useLinearInTransformer: linear, contextDim: contextDim)
        return config.isConsistent ? config : nil
    }

    /// Reads the parameters of a UNet from its diffusers keys and shapes, as ComfyUI's
    /// `unet_config_from_diffusers_unet` counts blocks.
    ///
    /// Returns nil without `conv_in.weight`.
    static func detect(diffusers keys: KeyShapes) -> UNetConfig? {
        guard let convIn = keys.shape("conv_in.weight"), let modelChannels = convIn.first, modelChannels > 0 else {
            return nil
        }
        let levels = keys.count("down_blocks.")
        var numResBlocks: [Int] = []
        var channelMult: [Int] = []
        var depth: [Int] = []
        var contextDim: Int?
        var linear = false
        func transformer(_ prefix: String) -> Int {
            let blocks = keys.count(prefix + "transformer_blocks.")
            if blocks > 0, contextDim == nil, let toK = keys.shape(prefix + "transformer_blocks.0.attn2.to_k.weight"), toK.count == 2 {
                contextDim = toK[1]
                linear = keys.shape(prefix + "proj_in.weight")?.count == 2
            }
            return blocks
        }
        for level in 0..<levels {
            let resnets = keys.count("down_blocks.\(level).resnets.")
            numResBlocks.append(resnets)
            let out = keys.shape("down_blocks.\(level).resnets.0.conv2.weight")?.first ?? 0
            channelMult.append(out / modelChannels)
            for i in 0..<resnets { depth.append(transformer("down_blocks.\(level).attentions.\(i).")) }
        }
        var depthOutput: [Int] = []
        for x in 0..<keys.count("up_blocks.") {
            for i in 0..<keys.count("up_blocks.\(x).resnets.") {
                depthOutput.append(transformer("up_blocks.\(x).attentions.\(i)."))
            }
        }
        let middle: Int
        if keys.has("mid_block.attentions.0.proj_in.weight") {
            middle = keys.count("mid_block.attentions.0.transformer_blocks.")
        } else if keys.has("mid_block.resnets.0.norm1.weight") {
            middle = -1
        } else {
            middle = -2
        }
        var label = LabelEmbedding.addEmbedding
        var adm = keys.shape("add_embedding.linear_1.weight").flatMap { $0.count == 2 ? $0[1] : nil }
        if adm == nil, let shape = keys.shape("class_embedding.linear_1.weight"), shape.count == 2 {
            adm = shape[1]
            label = .classEmbedding
        }
        let config = UNetConfig(
            modelChannels: modelChannels, channelMult: channelMult, numResBlocks: numResBlocks,
            transformerDepth: depth, transformerDepthOutput: depthOutput.reversed(), transformerDepthMiddle: middle,
            admInChannels: adm, labelEmbedding: label, useLinearInTransformer: linear, contextDim: contextDim)
        return config.isConsistent ? config : nil
    }
}

extension UNetConfig {
    /// Reads the parameters of a UNet from its LDM/SGM keys (without `model.diffusion_model.`)
    /// and shapes, as ComfyUI's `detect_unet_config` does; nil if they do not describe a UNet.
    public static func detect(ldmShapes: [String: [Int]]) -> UNetConfig? {
        detect(ldm: KeyShapes(ldmShapes.map { (key: $0.key, shape: $0.value) }))
    }

    /// Reads the parameters of a UNet from its diffusers keys and shapes; nil if they do not describe a UNet.
    public static func detect(diffusersShapes: [String: [Int]]) -> UNetConfig? {
        detect(diffusers: KeyShapes(diffusersShapes.map { (key: $0.key, shape: $0.value) }))
    }
}
