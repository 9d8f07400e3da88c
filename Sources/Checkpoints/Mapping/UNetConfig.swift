/// The parameters of an LDM/SGM UNet that decide its keys, as ComfyUI describes them.
///
/// The fields follow ComfyUI's `unet_config` (`comfy/model_detection.py`,
/// `comfy/utils.py::unet_to_diffusers`), so a configuration read from a ComfyUI
/// source can be typed in unchanged. From them ``blocks`` generates the map between
/// LDM keys (`input_blocks.4.1.…`) and diffusers keys (`down_blocks.1.attentions.0.…`).
public struct UNetConfig: Sendable, Hashable, Codable {
    /// Channels of `conv_in`'s output (`input_blocks.0.0.weight`'s first dimension).
    public var modelChannels: Int
    /// Channel multiplier per level; the number of levels is its count.
    public var channelMult: [Int]
    /// Resnets per down level (an up level has one more).
    public var numResBlocks: [Int]
    /// Transformer blocks after each down resnet, in order (0: no attention).
    public var transformerDepth: [Int]
    /// Transformer blocks after each up resnet, listed as ComfyUI lists them: by level from
    /// the outermost, so output block `n` of `N` uses entry `N - 1 - n`.
    public var transformerDepthOutput: [Int]
    /// Transformer blocks in the middle: 0 or more for resnet, attention, resnet; -1 for a
    /// single resnet; -2 for no middle block.
    public var transformerDepthMiddle: Int
    /// Input width of `label_emb` (SDXL's pooled text and size embedding), or nil without one.
    public var admInChannels: Int?
    /// What diffusers calls `label_emb`.
    public var labelEmbedding: LabelEmbedding
    /// `proj_in`/`proj_out` are linears (SD2, SDXL) rather than 1×1 convolutions (SD1).
    public var useLinearInTransformer: Bool
    /// Width of the cross-attention context, when known.
    public var contextDim: Int?

    /// The diffusers module that holds LDM's `label_emb.0.{0,2}`.
    public enum LabelEmbedding: String, Sendable, Hashable, Codable {
        /// SDXL's `addition_embed_type = "text_time"`: `add_embedding.linear_{1,2}`.
        case addEmbedding = "add_embedding"
        /// A class-conditioned UNet: `class_embedding.linear_{1,2}`.
        case classEmbedding = "class_embedding"
    }

    public init(modelChannels: Int, channelMult: [Int], numResBlocks: [Int], transformerDepth: [Int],
                transformerDepthOutput: [Int], transformerDepthMiddle: Int, admInChannels: Int? = nil,
                labelEmbedding: LabelEmbedding = .addEmbedding, useLinearInTransformer: Bool, contextDim: Int? = nil) {
        self.modelChannels = modelChannels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
        self.transformerDepth = transformerDepth
        self.transformerDepthOutput = transformerDepthOutput
        self.transformerDepthMiddle = transformerDepthMiddle
        self.admInChannels = admInChannels
        self.labelEmbedding = labelEmbedding
        self.useLinearInTransformer = useLinearInTransformer
        self.contextDim = contextDim
    }

    /// Whether the lists agree with each other (one depth per resnet, one multiplier per level).
    public var isConsistent: Bool {
        !channelMult.isEmpty && numResBlocks.count == channelMult.count
            && transformerDepth.count == numResBlocks.reduce(0, +)
            && transformerDepthOutput.count == numResBlocks.reduce(0) { $0 + $1 + 1 }
            && numResBlocks.allSatisfy { $0 >= 0 } && modelChannels > 0
    }

    /// SD 1.x (ComfyUI `SD15`): 4 levels, attention in the first three, 1×1 conv projections.
    public static let sd1 = UNetConfig(
        modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: [2, 2, 2, 2],
        transformerDepth: [1, 1, 1, 1, 1, 1, 0, 0], transformerDepthOutput: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
        transformerDepthMiddle: 1, useLinearInTransformer: false, contextDim: 768)

    /// SD 2.x (ComfyUI `SD20`): SD1's blocks with linear projections and a 1024-wide context.
    public static let sd2 = UNetConfig(
        modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: [2, 2, 2, 2],
        transformerDepth: [1, 1, 1, 1, 1, 1, 0, 0], transformerDepthOutput: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
        transformerDepthMiddle: 1, useLinearInTransformer: true, contextDim: 1024)

    /// SDXL base (ComfyUI `SDXL`): 3 levels, transformer depth 0/2/10.
    public static let sdxlBase = UNetConfig(
        modelChannels: 320, channelMult: [1, 2, 4], numResBlocks: [2, 2, 2],
        transformerDepth: [0, 0, 2, 2, 10, 10], transformerDepthOutput: [0, 0, 0, 2, 2, 2, 10, 10, 10],
        transformerDepthMiddle: 10, admInChannels: 2816, useLinearInTransformer: true, contextDim: 2048)

    /// SDXL refiner (ComfyUI `SDXLRefiner`): 4 levels of 384 channels, depth 4 in the middle two.
    public static let sdxlRefiner = UNetConfig(
        modelChannels: 384, channelMult: [1, 2, 4, 4], numResBlocks: [2, 2, 2, 2],
        transformerDepth: [0, 0, 4, 4, 4, 4, 0, 0], transformerDepthOutput: [0, 0, 0, 4, 4, 4, 4, 4, 4, 0, 0, 0],
        transformerDepthMiddle: 4, admInChannels: 2560, useLinearInTransformer: true, contextDim: 1280)
}
