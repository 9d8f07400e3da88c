/// The parameters of an AutoencoderKL that decide its keys.
public struct VAEConfig: Sendable, Hashable, Codable {
    /// Channels of the encoder's `conv_in` output (`ch` in LDM, `block_out_channels[0]` in diffusers).
    public var channels: Int
    /// Channel multiplier per level (LDM `ch_mult`); the number of levels is its count.
    public var channelMult: [Int]
    /// Resnets per encoder level (LDM `num_res_blocks`, diffusers `layers_per_block`); a decoder level has one more.
    public var numResBlocks: Int

    public init(channels: Int, channelMult: [Int], numResBlocks: Int) {
        self.channels = channels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
    }

    /// The VAE of SD1, SD2 and SDXL: 128 channels, multipliers 1, 2, 4, 4, two resnets per level.
    public static let standard = VAEConfig(channels: 128, channelMult: [1, 2, 4, 4], numResBlocks: 2)

    /// The map between LDM and diffusers VAE keys (checkpoint-formats §3).
    ///
    /// The decoder's up blocks are numbered the other way round (`decoder.up.{L-1-i}` ⇄
    /// `decoder.up_blocks.{i}`); there is no downsampler at the last level and no upsampler
    /// at level 0; a resnet has `nin_shortcut` ⇄ `conv_shortcut` when its widths differ;
    /// the mid attention's 1×1 convolutions are linears in diffusers.
    var blocks: BlockMap? {
        guard channels > 0, !channelMult.isEmpty, numResBlocks >= 0 else { return nil }
        let levels = channelMult.count
        var blocks: [BlockPair] = []
        func middle(_ side: String) {
            blocks.append(BlockPair("\(side).mid.block_1.", "\(side).mid_block.resnets.0.", .vaeResnet(shortcut: false)))
            blocks.append(BlockPair("\(side).mid.attn_1.", "\(side).mid_block.attentions.0.", .vaeAttention))
            blocks.append(BlockPair("\(side).mid.block_2.", "\(side).mid_block.resnets.1.", .vaeResnet(shortcut: false)))
        }
        blocks.append(BlockPair("encoder.conv_in.", "encoder.conv_in.", .plain))
        var width = channels
        for level in 0..<levels {
            let out = channels * channelMult[level]
            for j in 0..<numResBlocks {
                blocks.append(BlockPair("encoder.down.\(level).block.\(j).", "encoder.down_blocks.\(level).resnets.\(j).",
                                        .vaeResnet(shortcut: width != out)))
                width = out
            }
            if level != levels - 1 {
                blocks.append(BlockPair("encoder.down.\(level).downsample.conv.", "encoder.down_blocks.\(level).downsamplers.0.conv.", .plain))
            }
        }
        middle("encoder")
        blocks.append(BlockPair("encoder.norm_out.", "encoder.conv_norm_out.", .plain))
        blocks.append(BlockPair("encoder.conv_out.", "encoder.conv_out.", .plain))
        blocks.append(BlockPair("quant_conv.", "quant_conv.", .plain))
        blocks.append(BlockPair("post_quant_conv.", "post_quant_conv.", .plain))
        blocks.append(BlockPair("decoder.conv_in.", "decoder.conv_in.", .plain))
        middle("decoder")
        width = channels * channelMult[levels - 1]
        for i in 0..<levels {
            let level = levels - 1 - i
            let out = channels * channelMult[level]
            for j in 0...numResBlocks {
                blocks.append(BlockPair("decoder.up.\(level).block.\(j).", "decoder.up_blocks.\(i).resnets.\(j).",
                                        .vaeResnet(shortcut: width != out)))
                width = out
            }
            if level != 0 {
                blocks.append(BlockPair("decoder.up.\(level).upsample.conv.", "decoder.up_blocks.\(i).upsamplers.0.conv.", .plain))
            }
        }
        blocks.append(BlockPair("decoder.norm_out.", "decoder.conv_norm_out.", .plain))
        blocks.append(BlockPair("decoder.conv_out.", "decoder.conv_out.", .plain))
        return BlockMap(blocks)
    }

    /// Reads the parameters from LDM VAE keys and shapes (prefix stripped), or nil without `encoder.conv_in.weight`.
    static func detect(ldm keys: KeyShapes) -> VAEConfig? {
        guard let channels = keys.shape("encoder.conv_in.weight")?.first, channels > 0 else { return nil }
        let levels = keys.count("encoder.down.")
        let resnets = keys.count("encoder.down.0.block.")
        guard levels > 0 else { return nil }
        let mult = (0..<levels).map { level in
            (keys.shape("encoder.down.\(level).block.0.conv1.weight")?.first ?? channels) / channels
        }
        return VAEConfig(channels: channels, channelMult: mult, numResBlocks: resnets)
    }

    /// Reads the parameters from diffusers VAE keys and shapes, or nil without `encoder.conv_in.weight`.
    static func detect(diffusers keys: KeyShapes) -> VAEConfig? {
        guard let channels = keys.shape("encoder.conv_in.weight")?.first, channels > 0 else { return nil }
        let levels = keys.count("encoder.down_blocks.")
        let resnets = keys.count("encoder.down_blocks.0.resnets.")
        guard levels > 0 else { return nil }
        let mult = (0..<levels).map { level in
            (keys.shape("encoder.down_blocks.\(level).resnets.0.conv1.weight")?.first ?? channels) / channels
        }
        return VAEConfig(channels: channels, channelMult: mult, numResBlocks: resnets)
    }
}
