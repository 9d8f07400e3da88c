/// What a block of a model holds, which decides the names of the tensors inside it.
///
/// The leaf tables here are the fixed part of the mapping rules (checkpoint-formats
/// §2a, §3, §5): they do not depend on the model's size. The blocks themselves (where
/// they sit, how many there are) come from the architecture parameters.
enum BlockKind: Sendable, Hashable {
    /// A module named alike on both sides (`weight`, `bias`; a convolution, linear or norm).
    case plain
    /// An LDM UNet `ResBlock` ⇄ a diffusers `ResnetBlock2D`; `shortcut` when it has a skip convolution.
    case unetResnet(shortcut: Bool)
    /// A `SpatialTransformer` ⇄ a `Transformer2DModel` with `depth` transformer blocks; leaves are named alike.
    case unetTransformer(depth: Int)
    /// An LDM VAE `ResnetBlock` ⇄ a diffusers `ResnetBlock2D`.
    case vaeResnet(shortcut: Bool)
    /// The VAE's mid-block attention (`attn_1` ⇄ `attentions.0`).
    case vaeAttention
    /// An OpenCLIP `ResidualAttentionBlock` ⇄ a HF `CLIPEncoderLayer` (fused q/k/v).
    case openCLIPLayer
    /// The top-level OpenCLIP tensors ⇄ HF embeddings, projection and `logit_scale`.
    case openCLIPRoot(projection: Bool)

    /// Every leaf of such a block, in a fixed order, for enumerating keys.
    var leaves: [LeafPair] {
        switch self {
        case .plain:
            return LeafPair.same([""])
        case .unetResnet(let shortcut):
            return shortcut ? BlockKind.unetResnetLeaves : Array(BlockKind.unetResnetLeaves.dropLast(2))
        case .unetTransformer(let depth):
            var leaves = LeafPair.same(["norm", "proj_in", "proj_out"])
            for t in 0..<max(depth, 0) {
                for leaf in BlockKind.transformerBlockLeaves {
                    let name = "transformer_blocks.\(t).\(leaf)"
                    leaves.append(LeafPair(name, name))
                }
            }
            return leaves
        case .vaeResnet(let shortcut):
            return shortcut ? BlockKind.vaeResnetLeaves : Array(BlockKind.vaeResnetLeaves.dropLast(2))
        case .vaeAttention:
            return BlockKind.vaeAttentionLeaves
        case .openCLIPLayer:
            return BlockKind.openCLIPLayerLeaves
        case .openCLIPRoot(let projection):
            return projection ? BlockKind.openCLIPRootLeaves : BlockKind.openCLIPRootLeaves.filter { $0.original != "text_projection" }
        }
    }

    /// Whether every leaf is named alike on both sides and accepted unchanged (a transformer
    /// block of any depth, a plain module with other parameters).
    var passesUnknownLeaves: Bool {
        switch self {
        case .plain, .unetTransformer: return true
        default: return false
        }
    }

    /// The diffusers leaves for an original leaf (three for a fused `in_proj_weight`), or empty.
    func diffusersLeaves(forOriginal leaf: String) -> [LeafPair] {
        if passesUnknownLeaves { return [LeafPair(leaf, leaf)] }
        return lookupLeaves.filter { $0.original == leaf }
    }

    /// The original leaf for a diffusers leaf (including legacy diffusers names), or nil.
    func originalLeaf(forDiffusers leaf: String) -> LeafPair? {
        if passesUnknownLeaves { return LeafPair(leaf, leaf) }
        if let found = lookupLeaves.first(where: { $0.diffusers == leaf }) { return found }
        if case .vaeAttention = self, let modern = BlockKind.legacyVAEAttentionNames[leaf] {
            return lookupLeaves.first { $0.diffusers == modern }
        }
        return nil
    }

    /// The leaves accepted when resolving a key of a renaming kind: all leaves the kind
    /// can have, whatever its parameters (a resnet may have a shortcut).
    private var lookupLeaves: [LeafPair] {
        switch self {
        case .plain, .unetTransformer: return []
        case .unetResnet: return BlockKind.unetResnetLeaves
        case .vaeResnet: return BlockKind.vaeResnetLeaves
        case .vaeAttention: return BlockKind.vaeAttentionLeaves
        case .openCLIPLayer: return BlockKind.openCLIPLayerLeaves
        case .openCLIPRoot: return BlockKind.openCLIPRootLeaves
        }
    }

    // MARK: - The leaf tables

    /// ResBlock ⇄ ResnetBlock2D; the shortcut comes last.
    static let unetResnetLeaves: [LeafPair] =
        LeafPair.module("in_layers.0", "norm1") + LeafPair.module("in_layers.2", "conv1")
        + LeafPair.module("emb_layers.1", "time_emb_proj") + LeafPair.module("out_layers.0", "norm2")
        + LeafPair.module("out_layers.3", "conv2") + LeafPair.module("skip_connection", "conv_shortcut")

    /// The leaves of one `BasicTransformerBlock` (ComfyUI `TRANSFORMER_BLOCKS`).
    static let transformerBlockLeaves: [String] = [
        "norm1.weight", "norm1.bias", "attn1.to_q.weight", "attn1.to_k.weight", "attn1.to_v.weight",
        "attn1.to_out.0.weight", "attn1.to_out.0.bias", "norm2.weight", "norm2.bias",
        "attn2.to_q.weight", "attn2.to_k.weight", "attn2.to_v.weight", "attn2.to_out.0.weight", "attn2.to_out.0.bias",
        "norm3.weight", "norm3.bias", "ff.net.0.proj.weight", "ff.net.0.proj.bias", "ff.net.2.weight", "ff.net.2.bias",
    ]

    /// VAE ResnetBlock ⇄ ResnetBlock2D; the shortcut comes last.
    static let vaeResnetLeaves: [LeafPair] =
        LeafPair.same(["norm1", "conv1", "norm2", "conv2"]) + LeafPair.module("nin_shortcut", "conv_shortcut")

    /// VAE mid attention: 1×1 convolutions in LDM, linears in diffusers.
    static let vaeAttentionLeaves: [LeafPair] =
        LeafPair.module("norm", "group_norm") + LeafPair.module("q", "to_q", weight: .reshape)
        + LeafPair.module("k", "to_k", weight: .reshape) + LeafPair.module("v", "to_v", weight: .reshape)
        + LeafPair.module("proj_out", "to_out.0", weight: .reshape)

    /// diffusers < 0.17 VAE attention names and their current names.
    static let legacyVAEAttentionNames: [String: String] = [
        "query.weight": "to_q.weight", "query.bias": "to_q.bias",
        "key.weight": "to_k.weight", "key.bias": "to_k.bias",
        "value.weight": "to_v.weight", "value.bias": "to_v.bias",
        "proj_attn.weight": "to_out.0.weight", "proj_attn.bias": "to_out.0.bias",
    ]

    /// OpenCLIP residual block ⇄ CLIPEncoderLayer; q, k, v are parts 0, 1, 2 of the fused projection.
    static let openCLIPLayerLeaves: [LeafPair] = {
        var leaves: [LeafPair] = []
        for (index, name) in ["q_proj", "k_proj", "v_proj"].enumerated() {
            leaves.append(LeafPair("attn.in_proj_weight", "self_attn.\(name).weight", part: RowPart(index, of: 3)))
            leaves.append(LeafPair("attn.in_proj_bias", "self_attn.\(name).bias", part: RowPart(index, of: 3)))
        }
        return leaves + LeafPair.module("attn.out_proj", "self_attn.out_proj")
            + LeafPair.module("ln_1", "layer_norm1") + LeafPair.module("mlp.c_fc", "mlp.fc1")
            + LeafPair.module("mlp.c_proj", "mlp.fc2") + LeafPair.module("ln_2", "layer_norm2")
    }()

    /// OpenCLIP top-level tensors ⇄ HF names. `logit_scale` has no HF tensor; its canonical
    /// key is `logit_scale` in the encoder's folder.
    static let openCLIPRootLeaves: [LeafPair] = [
        LeafPair("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
        LeafPair("positional_embedding", "text_model.embeddings.position_embedding.weight"),
        LeafPair("ln_final.weight", "text_model.final_layer_norm.weight"),
        LeafPair("ln_final.bias", "text_model.final_layer_norm.bias"),
        LeafPair("text_projection", "text_projection.weight", .transpose),
        LeafPair("logit_scale", "logit_scale"),
    ]
}
