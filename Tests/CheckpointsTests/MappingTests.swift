import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import Checkpoints

/// The keys and shapes of a diffusers `UNet2DConditionModel`, enumerated the way diffusers
/// builds the model (`unet_2d_condition.py`, `unet_2d_blocks.py`, `resnet.py`,
/// `transformer_2d.py`, `attention.py`): an oracle written independently of the mapping code,
/// checked against the published listings before use.
struct DiffusersUNetModel {
    var blockOut: [Int]
    var layersPerBlock = 2
    var crossAttention: [Bool]
    var transformerLayers: [Int]
    var midTransformerLayers: Int
    var crossAttentionDim: Int
    var linearProjection: Bool
    var additionInput: Int?
    var inChannels = 4
    var outChannels = 4

    static let sd15 = DiffusersUNetModel(blockOut: [320, 640, 1280, 1280], crossAttention: [true, true, true, false],
                                         transformerLayers: [1, 1, 1, 1], midTransformerLayers: 1, crossAttentionDim: 768,
                                         linearProjection: false, additionInput: nil)
    static let sdxl = DiffusersUNetModel(blockOut: [320, 640, 1280], crossAttention: [false, true, true],
                                         transformerLayers: [1, 2, 10], midTransformerLayers: 10, crossAttentionDim: 2048,
                                         linearProjection: true, additionInput: 2816)
    /// stabilityai/stable-diffusion-xl-refiner-1.0 `unet/config.json`.
    static let sdxlRefiner = DiffusersUNetModel(blockOut: [384, 768, 1536, 1536], crossAttention: [false, true, true, false],
                                                transformerLayers: [4, 4, 4, 4], midTransformerLayers: 4, crossAttentionDim: 1280,
                                                linearProjection: true, additionInput: 2560)

    func keys() -> [(name: String, shape: [Int])] {
        var keys: [(name: String, shape: [Int])] = []
        let temb = blockOut[0] * 4
        func module(_ name: String, _ weight: [Int], bias: Bool = true) {
            keys.append((name + ".weight", weight))
            if bias { keys.append((name + ".bias", [weight[0]])) }
        }
        func resnet(_ p: String, _ input: Int, _ out: Int) {
            module(p + "norm1", [input]); module(p + "conv1", [out, input, 3, 3]); module(p + "time_emb_proj", [out, temb])
            module(p + "norm2", [out]); module(p + "conv2", [out, out, 3, 3])
            if input != out { module(p + "conv_shortcut", [out, input, 1, 1]) }
        }
        func transformer(_ p: String, _ c: Int, _ depth: Int) {
            module(p + "norm", [c])
            module(p + "proj_in", linearProjection ? [c, c] : [c, c, 1, 1])
            for t in 0..<depth {
                let b = p + "transformer_blocks.\(t)."
                for n in ["norm1", "norm2", "norm3"] { module(b + n, [c]) }
                for (attn, kv) in [("attn1", c), ("attn2", crossAttentionDim)] {
                    module(b + attn + ".to_q", [c, c], bias: false)
                    module(b + attn + ".to_k", [c, kv], bias: false)
                    module(b + attn + ".to_v", [c, kv], bias: false)
                    module(b + attn + ".to_out.0", [c, c])
                }
                module(b + "ff.net.0.proj", [c * 8, c]); module(b + "ff.net.2", [c, c * 4])
            }
            module(p + "proj_out", linearProjection ? [c, c] : [c, c, 1, 1])
        }
        module("conv_in", [blockOut[0], inChannels, 3, 3])
        module("time_embedding.linear_1", [temb, blockOut[0]]); module("time_embedding.linear_2", [temb, temb])
        if let additionInput {
            module("add_embedding.linear_1", [temb, additionInput]); module("add_embedding.linear_2", [temb, temb])
        }
        var output = blockOut[0]
        for (i, out) in blockOut.enumerated() {
            let input = output
            output = out
            for j in 0..<layersPerBlock {
                resnet("down_blocks.\(i).resnets.\(j).", j == 0 ? input : out, out)
                if crossAttention[i] { transformer("down_blocks.\(i).attentions.\(j).", out, transformerLayers[i]) }
            }
            if i != blockOut.count - 1 { module("down_blocks.\(i).downsamplers.0.conv", [out, out, 3, 3]) }
        }
        let last = blockOut[blockOut.count - 1]
        resnet("mid_block.resnets.0.", last, last)
        transformer("mid_block.attentions.0.", last, midTransformerLayers)
        resnet("mid_block.resnets.1.", last, last)
        let reversed = Array(blockOut.reversed())
        let reversedAttention = Array(crossAttention.reversed())
        let reversedLayers = Array(transformerLayers.reversed())
        var previous = reversed[0]
        for (i, out) in reversed.enumerated() {
            let input = reversed[min(i + 1, reversed.count - 1)]
            for j in 0...layersPerBlock {
                let skip = j == layersPerBlock ? input : out
                resnet("up_blocks.\(i).resnets.\(j).", (j == 0 ? previous : out) + skip, out)
                if reversedAttention[i] { transformer("up_blocks.\(i).attentions.\(j).", out, reversedLayers[i]) }
            }
            if i != reversed.count - 1 { module("up_blocks.\(i).upsamplers.0.conv", [out, out, 3, 3]) }
            previous = out
        }
        module("conv_norm_out", [blockOut[0]]); module("conv_out", [outChannels, blockOut[0], 3, 3])
        return keys
    }
}

@Suite("Mapping tables")
struct MappingTableTests {
    /// `name → shape` of a listing.
    func shapes(_ listing: Listing) -> [String: [Int]] {
        Dictionary(listing.entries.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether a source and a target shape line up through a row's transform and parts.
    func linesUp(_ row: MappingTable.Row, _ source: [Int], _ target: [Int]) -> Bool {
        var s = source, t = target
        if let part = row.sourceRows, !s.isEmpty { s[0] /= part.count }
        if let part = row.targetRows, !t.isEmpty { t[0] /= part.count }
        switch row.transform {
        case .identity: return s == t
        case .reshape: return s != t && s.filter { $0 != 1 } == t.filter { $0 != 1 }
        case .transpose: return s.count == 2 && t == [s[1], s[0]]
        }
    }

    /// Checks a table against a source listing and the diffusers listings it should reach.
    func check(_ table: MappingTable, source: Listing, targets: [String: [Int]], file: String = #fileID, line: Int = #line) {
        let sourceShapes = shapes(source)
        let rowSources = Set(table.rows.compactMap(\.source))
        let rowTargets = Set(table.rows.compactMap(\.target))
        #expect(rowSources == Set(sourceShapes.keys),
                "extra \(rowSources.subtracting(sourceShapes.keys).sorted().prefix(5)) missing \(Set(sourceShapes.keys).subtracting(rowSources).sorted().prefix(5))")
        #expect(rowTargets == Set(targets.keys),
                "extra \(rowTargets.subtracting(targets.keys).sorted().prefix(5)) missing \(Set(targets.keys).subtracting(rowTargets).sorted().prefix(5))")
        let misaligned = table.rows.filter { row in
            guard let s = row.source.flatMap({ sourceShapes[$0] }), let t = row.target.flatMap({ targets[$0] }) else { return false }
            return !linesUp(row, s, t)
        }
        #expect(misaligned.isEmpty, "\(misaligned.prefix(3).map { "\($0.source ?? "-") → \($0.target ?? "-")" })")
    }

    /// The diffusers listings of a model, with folder prefixes.
    func diffusersShapes(_ model: String, _ components: [String]) throws -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for component in components {
            for entry in try Listing("diffusers/\(model)_\(component).json").entries { result[component + "/" + entry.name] = entry.shape }
        }
        return result
    }

    @Test func sd1LDMToDiffusers() throws {
        let listing = try Listing("sd-mecha/sd1-ldm.json")
        let table = MappingTable.make(family: .sd1, from: .ldm, to: .diffusers)
        let source = listing.filter { ["diffuser", "vae", "clip_l"].contains($0.component) && !$0.name.hasSuffix("position_ids") }
        check(table, source: source, targets: try diffusersShapes("sd15", ["unet", "vae", "text_encoder"]))
        #expect(table.rows.count == 686 + 248 + 196)
        #expect(table.rows.allSatisfy { $0.source != nil && $0.target != nil })
        let reshaped = table.rows.filter { $0.transform == .reshape }.compactMap(\.target)
        #expect(reshaped.count == 8 && reshaped.allSatisfy { $0.hasPrefix("vae/") && $0.contains("mid_block.attentions.0.") })
    }

    @Test func sd1EMARows() throws {
        let listing = try Listing("sd-mecha/sd1-ldm.json")
        let table = MappingTable.make(family: .sd1, from: .ldm, to: .diffusers, includeEMA: true)
        let ema = table.rows.filter { $0.component == .ema }
        let expected = Set(listing.entries.filter { $0.component == "ema" }.map(\.name))
            .subtracting(["model_ema.decay", "model_ema.num_updates"])
        #expect(Set(ema.compactMap(\.source)) == expected)
        #expect(ema.allSatisfy { $0.target.map { $0.hasPrefix("unet_ema/") } == true })
        #expect(ema.contains { $0.source == "model_ema.diffusion_modelinput_blocks11proj_inweight"
                && $0.target == "unet_ema/down_blocks.0.attentions.0.proj_in.weight" })
    }

    @Test func sdxlSGMToDiffusersAndBack() throws {
        let listing = try Listing("sd-mecha/sdxl-sgm.json")
        let table = MappingTable.make(family: .sdxlBase, from: .sgm, to: .diffusers)
        let source = listing.filter { ["diffuser", "vae", "clip_l", "clip_g"].contains($0.component) && !$0.optional
            || $0.component == "clip_g" || ($0.component == "clip_l" && !$0.name.hasSuffix("position_ids")) }
        check(table, source: source, targets: try diffusersShapes("sdxl", ["unet", "vae", "text_encoder", "text_encoder_2"]))
        let projection = table.rows.first { $0.target == "text_encoder_2/text_projection.weight" }
        #expect(projection?.source == "conditioner.embedders.1.model.text_projection" && projection?.transform == .transpose)
        #expect(table.rows.first { $0.source == "conditioner.embedders.1.model.logit_scale" }?.target == nil)
        let fused = table.rows.filter { $0.source == "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight" }
        #expect(fused.map(\.sourceRows) == [RowPart(0, of: 3), RowPart(1, of: 3), RowPart(2, of: 3)])
        #expect(fused.map { $0.target ?? "" } == ["q_proj", "k_proj", "v_proj"].map {
            "text_encoder_2/text_model.encoder.layers.0.self_attn.\($0).weight" })

        // The reverse table has the same rows, sides swapped.
        let back = MappingTable.make(family: .sdxlBase, from: .diffusers, to: .sgm)
        #expect(back.rows.count == table.rows.count)
        for (forward, reverse) in zip(table.rows, back.rows) {
            #expect(forward.source == reverse.target && forward.target == reverse.source
                    && forward.sourceRows == reverse.targetRows && forward.transform == reverse.transform)
        }
    }

    @Test func kohyaToDiffusers() throws {
        let sdxl = try Listing("sd-mecha/sdxl-kohya.json")
        let table = MappingTable.make(family: .sdxlBase, from: .kohya, to: .diffusers)
        check(table, source: sdxl.filter { !$0.name.hasSuffix("position_ids") },
              targets: try diffusersShapes("sdxl", ["unet", "vae", "text_encoder", "text_encoder_2"]))
        #expect(table.rows.first { $0.source == "te2.text_projection.weight" }?.transform == .identity)

        let sd1 = try Listing("sd-mecha/sd1-kohya.json")
        let sd1Table = MappingTable.make(family: .sd1, from: .kohya, to: .diffusers)
        check(sd1Table, source: sd1, targets: try diffusersShapes("sd15", ["unet", "vae", "text_encoder"]))
        #expect(sd1Table.rows.allSatisfy { $0.transform == .identity })
    }

    @Test func sd2TextEncoderRows() {
        let table = MappingTable.make(family: .sd2, from: .ldm, to: .diffusers)
        let encoder = table.rows.filter { $0.component == .openCLIP }
        #expect(encoder.allSatisfy { $0.source?.hasPrefix("cond_stage_model.model.") == true })
        // 24 resblocks of 12 tensors, 6 top-level tensors; diffusers keeps 23 layers of 16 and 4 others.
        #expect(Set(encoder.compactMap(\.source)).count == 24 * 12 + 6)
        #expect(encoder.compactMap(\.target).count == 23 * 16 + 4)
        let unmatched = encoder.filter { $0.target == nil }.compactMap(\.source)
        #expect(Set(unmatched) == Set(["text_projection", "logit_scale"].map { "cond_stage_model.model." + $0 }
            + ["attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias", "ln_1.weight", "ln_1.bias",
               "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]
                .map { "cond_stage_model.model.transformer.resblocks.23." + $0 }))
        #expect(table.rows.contains { $0.source == "model.diffusion_model.input_blocks.1.1.proj_in.weight"
                && $0.target == "unet/down_blocks.0.attentions.0.proj_in.weight" })
    }

    @Test func diffusersUNetOracleMatchesTheListings() throws {
        for (model, name) in [(DiffusersUNetModel.sd15, "sd15"), (DiffusersUNetModel.sdxl, "sdxl")] {
            let listing = shapes(try Listing("diffusers/\(name)_unet.json"))
            let generated = Dictionary(model.keys().map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
            #expect(generated == listing, "\(name): \(Set(generated.keys).symmetricDifference(listing.keys).sorted().prefix(5))")
        }
    }

    /// checkpoint-formats §2d: the refiner's table from ComfyUI's config is self-consistent.
    @Test func sdxlRefinerTablesAreSelfConsistent() throws {
        let model = DiffusersUNetModel.sdxlRefiner.keys()
        let table = MappingTable.make(family: .sdxlRefiner, from: .diffusers, to: .sgm)
        let unet = table.rows.filter { $0.component == .unet }
        #expect(Set(unet.compactMap(\.source)) == Set(model.map { "unet/" + $0.name }))
        #expect(unet.count == model.count)
        let targets = unet.compactMap(\.target)
        #expect(targets.count == unet.count && Set(targets).count == targets.count)
        #expect(targets.allSatisfy { $0.hasPrefix("model.diffusion_model.") })
        #expect(unet.allSatisfy { $0.transform == .identity && $0.sourceRows == nil && $0.targetRows == nil })
        // ComfyUI's quirks made right: the upsampler's sub-index follows the attention; none after the last level.
        let upsamplers = unet.filter { $0.source?.contains("upsamplers") == true && $0.source?.hasSuffix(".weight") == true }
        #expect(upsamplers.compactMap(\.target) == ["model.diffusion_model.output_blocks.2.1.conv.weight",
                                                    "model.diffusion_model.output_blocks.5.2.conv.weight",
                                                    "model.diffusion_model.output_blocks.8.2.conv.weight"])
        #expect(!targets.contains { $0.hasPrefix("model.diffusion_model.input_blocks.12.") })
        #expect(table.rows.contains { $0.target == "conditioner.embedders.0.model.transformer.resblocks.31.attn.in_proj_weight" })

        let back = MappingTable.make(family: .sdxlRefiner, from: .sgm, to: .diffusers)
        let inverse = Dictionary(back.rows.compactMap { row in row.source.map { ($0 + "\(row.sourceRows.map { "#\($0)" } ?? "")", row.target) } },
                                 uniquingKeysWith: { a, _ in a })
        for row in table.rows {
            guard let target = row.target else { continue }
            #expect(inverse[target + "\(row.targetRows.map { "#\($0)" } ?? "")"] == row.source, "\(target)")
        }

        // The SGM keys, carrying the diffusers shapes, read back as ComfyUI's refiner config.
        let shapesByDiffusers = Dictionary(model.map { ("unet/" + $0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let sgm = unet.compactMap { row -> (key: String, shape: [Int])? in
            guard let target = row.target, let source = row.source, let shape = shapesByDiffusers[source] else { return nil }
            return (String(target.dropFirst("model.diffusion_model.".count)), shape)
        }
        #expect(UNetConfig.detect(ldm: KeyShapes(sgm)) == .sdxlRefiner)
        #expect(UNetConfig.detect(diffusers: KeyShapes(model.map { (key: $0.name, shape: $0.shape) })) == .sdxlRefiner)

        // And a refiner single file aligns with a diffusers refiner folder, bigG under `conditioner.embedders.0.model.`.
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let bigG = try Listing("sd-mecha/sdxl-sgm.json").filter { $0.component == "clip_g" }
        var single = Listing(entries: sgm.map { .init(name: "model.diffusion_model." + $0.key, dtype: .f16, shape: $0.shape,
                                                       component: nil, optional: false, aliases: []) })
        single.entries += bigG.entries.map { entry in
            var entry = entry
            entry.name = entry.name.replacingOccurrences(of: "conditioner.embedders.1.", with: "conditioner.embedders.0.")
            return entry
        }
        let file = try store.file("refiner", single)
        let unetListing = Listing(entries: model.map { .init(name: $0.name, dtype: .f16, shape: $0.shape, component: nil,
                                                              optional: false, aliases: []) })
        let folder = try store.folder("refiner", pipeline: "StableDiffusionXLImg2ImgPipeline",
                                      [("unet", unetListing), ("text_encoder_2", try Listing("diffusers/sdxl_text_encoder_2.json"))])
        let plan = Alignment.aligning(file, folder)
        #expect(plan.pairs.count == model.count + 517)
        #expect(plan.misalignedPairs(file, folder).isEmpty)
        #expect(plan.onlyInB.isEmpty)
        #expect(Alignment.classes(plan.onlyInA) == [.layoutOnly: 1])
        let byA = Dictionary(plan.pairs.map { (file.tensors[$0.a.tensor].name, folder.tensors[$0.b.tensor].name) }, uniquingKeysWith: { a, _ in a })
        #expect(unet.allSatisfy { row in row.target.map { byA[$0] } == row.source })
    }
}

@Suite("Structure detection")
struct StructureDetectionTests {
    func keys(_ listing: Listing, prefix: String) -> KeyShapes {
        KeyShapes(listing.entries.filter { $0.name.hasPrefix(prefix) }.map { (key: String($0.name.dropFirst(prefix.count)), shape: $0.shape) })
    }

    @Test func unetFromLDMAndDiffusersListings() throws {
        #expect(UNetConfig.detect(ldm: keys(try Listing("sd-mecha/sd1-ldm.json"), prefix: "model.diffusion_model.")) == .sd1)
        #expect(UNetConfig.detect(ldm: keys(try Listing("sd-mecha/sdxl-sgm.json"), prefix: "model.diffusion_model.")) == .sdxlBase)
        #expect(UNetConfig.detect(diffusers: keys(try Listing("diffusers/sd15_unet.json"), prefix: "")) == .sd1)
        #expect(UNetConfig.detect(diffusers: keys(try Listing("diffusers/sdxl_unet.json"), prefix: "")) == .sdxlBase)
        #expect(UNetConfig.detect(ldm: KeyShapes([])) == nil)
    }

    @Test func vaeFromLDMAndDiffusersListings() throws {
        #expect(VAEConfig.detect(ldm: keys(try Listing("sd-mecha/sd1-ldm.json"), prefix: "first_stage_model.")) == .standard)
        #expect(VAEConfig.detect(diffusers: keys(try Listing("diffusers/sdxl_vae.json"), prefix: "")) == .standard)
    }

    @Test func tinySDXLFromTheReferenceFolder() throws {
        // facts.json: block_out_channels (8,16,24), transformer_layers_per_block [1,2,2], DownBlock2D first.
        let unet = try Checkpoint.open(Fixtures.path("reference/sdxl_tiny_diffusers/unet"))
        let config = UNetConfig.detect(diffusers: KeyShapes(unet.tensors.map { (key: $0.key, shape: $0.info.shape) }))
        #expect(config?.modelChannels == 8 && config?.channelMult == [1, 2, 3] && config?.numResBlocks == [2, 2, 2])
        #expect(config?.transformerDepth == [0, 0, 2, 2, 2, 2] && config?.transformerDepthOutput == [0, 0, 0, 2, 2, 2, 2, 2, 2])
        #expect(config?.transformerDepthMiddle == 2 && config?.admInChannels == 80 && config?.useLinearInTransformer == true)
        #expect(config?.contextDim == 48)
    }
}
