extension UNetConfig {
    /// The map between LDM/SGM and diffusers UNet keys for this configuration.
    ///
    /// Follows ComfyUI's `unet_to_diffusers` with the block numbering of the model
    /// itself: input blocks are counted as they are built (conv_in, then per level its
    /// resnets and, except at the last level, a downsampler); output blocks per level
    /// from the innermost, `numResBlocks + 1` resnets each, with an upsampler on the
    /// last one except at the outermost level. The upsampler's sub-index is 1 without
    /// attention and 2 with it; the other index is read as an alias (the diffusers SDXL
    /// script first writes `.1.` and then patches it). A resnet has a skip convolution
    /// when its input and output widths differ (`ResBlock` in `openaimodel.py`).
    ///
    /// Returns nil if the configuration is not ``isConsistent``.
    var blocks: BlockMap? {
        guard isConsistent else { return nil }
        var blocks: [BlockPair] = [
            BlockPair("time_embed.0.", "time_embedding.linear_1.", .plain),
            BlockPair("time_embed.2.", "time_embedding.linear_2.", .plain),
        ]
        if admInChannels != nil {
            blocks.append(BlockPair("label_emb.0.0.", "\(labelEmbedding.rawValue).linear_1.", .plain))
            blocks.append(BlockPair("label_emb.0.2.", "\(labelEmbedding.rawValue).linear_2.", .plain))
        }
        blocks.append(BlockPair("input_blocks.0.0.", "conv_in.", .plain))

        let levels = channelMult.count
        var channels = modelChannels
        var skipChannels = [modelChannels]
        var depths = transformerDepth[...]
        var n = 1
        for level in 0..<levels {
            let width = modelChannels * channelMult[level]
            for i in 0..<numResBlocks[level] {
                blocks.append(BlockPair("input_blocks.\(n).0.", "down_blocks.\(level).resnets.\(i).",
                                        .unetResnet(shortcut: channels != width)))
                channels = width
                skipChannels.append(channels)
                let depth = depths.popFirst() ?? 0
                if depth > 0 {
                    blocks.append(BlockPair("input_blocks.\(n).1.", "down_blocks.\(level).attentions.\(i).",
                                            .unetTransformer(depth: depth)))
                }
                n += 1
            }
            if level != levels - 1 {
                blocks.append(BlockPair("input_blocks.\(n).0.op.", "down_blocks.\(level).downsamplers.0.conv.", .plain))
                skipChannels.append(channels)
                n += 1
            }
        }

        if transformerDepthMiddle >= -1 {
            blocks.append(BlockPair("middle_block.0.", "mid_block.resnets.0.", .unetResnet(shortcut: false)))
            if transformerDepthMiddle >= 0 {
                blocks.append(BlockPair("middle_block.1.", "mid_block.attentions.0.",
                                        .unetTransformer(depth: transformerDepthMiddle)))
                blocks.append(BlockPair("middle_block.2.", "mid_block.resnets.1.", .unetResnet(shortcut: false)))
            }
        }

        var outputDepths = transformerDepthOutput
        n = 0
        for x in 0..<levels {
            let level = levels - 1 - x
            let width = modelChannels * channelMult[level]
            let count = numResBlocks[level] + 1
            for i in 0..<count {
                let skip = skipChannels.popLast() ?? 0
                blocks.append(BlockPair("output_blocks.\(n).0.", "up_blocks.\(x).resnets.\(i).",
                                        .unetResnet(shortcut: channels + skip != width)))
                channels = width
                let depth = outputDepths.popLast() ?? 0
                var sub = 1
                if depth > 0 {
                    blocks.append(BlockPair("output_blocks.\(n).1.", "up_blocks.\(x).attentions.\(i).",
                                            .unetTransformer(depth: depth)))
                    sub = 2
                }
                if level != 0 && i == count - 1 {
                    blocks.append(BlockPair("output_blocks.\(n).\(sub).conv.", "up_blocks.\(x).upsamplers.0.conv.", .plain,
                                            aliases: ["output_blocks.\(n).\(3 - sub).conv."]))
                }
                n += 1
            }
        }
        blocks.append(BlockPair("out.0.", "conv_norm_out.", .plain))
        blocks.append(BlockPair("out.2.", "conv_out.", .plain))
        return BlockMap(blocks)
    }
}
