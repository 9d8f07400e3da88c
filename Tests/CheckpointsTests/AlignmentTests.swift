import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import Checkpoints

/// sd-mecha component names → ckdiff components.
private let mechaComponents: [String: Component] = [
    "diffuser": .unet, "vae": .vae, "clip_l": .clipL, "clip_g": .openCLIP, "ema": .ema,
]

/// The diffusers listings of a model as folder components.
private func diffusersComponents(_ model: String, _ components: [String]) throws -> [(String, Listing)] {
    try components.map { ($0, try Listing("diffusers/\(model)_\($0).json")) }
}

@Suite("Alignment of full-size listings")
struct FullSizeAlignmentTests {
    /// Checks a plan in which every model weight of `a` pairs and only these leftovers remain.
    func check(_ plan: Alignment, _ a: Checkpoint, _ b: Checkpoint, pairs: Int,
               onlyInA: [LeftoverClass: Int], onlyInB: [LeftoverClass: Int] = [:]) {
        #expect(plan.pairs.count == pairs)
        #expect(plan.misalignedPairs(a, b).isEmpty, "\(plan.misalignedPairs(a, b).prefix(5))")
        #expect(Alignment.classes(plan.onlyInA) == onlyInA,
                "\(plan.onlyInA.prefix(8).map { a.tensors[$0.tensor].name + ":" + $0.kind.rawValue })")
        #expect(Alignment.classes(plan.onlyInB) == onlyInB,
                "\(plan.onlyInB.prefix(8).map { b.tensors[$0.tensor].name + ":" + $0.kind.rawValue })")
        #expect(plan.unaccounted(a, side: \.a, leftovers: plan.onlyInA).isEmpty)
        #expect(plan.unaccounted(b, side: \.b, leftovers: plan.onlyInB).isEmpty)
        // Each B view is used once.
        let viewsB = plan.pairs.map { "\($0.b.tensor):\($0.b.rows.map { "\($0)" } ?? "all")" }
        #expect(Set(viewsB).count == viewsB.count)
    }

    /// The pair whose B tensor is named `name` (the first, for a row-sliced tensor).
    func pair(_ plan: Alignment, b: Checkpoint, named name: String) -> AlignedPair? {
        plan.pairs.first { b.tensors[$0.b.tensor].name == name }
    }

    /// A tensor's name in a plan side.
    func name<Side>(_ checkpoint: Checkpoint, _ view: TensorRef<Side>) -> String { checkpoint.tensors[view.tensor].name }

    @Test func sd1LDMAgainstDiffusers() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let listing = try Listing("sd-mecha/sd1-ldm.json")
        let ldm = try store.file("sd1-ldm", listing)
        let diffusers = try store.folder("sd15", try diffusersComponents("sd15", ["unet", "vae", "text_encoder"]))

        let plan = Alignment.aligning(ldm, diffusers)
        // Expected from sd-mecha's own component labels: EMA copies, schedule buffers and position_ids stay.
        let ema = listing.entries.filter { $0.component == "ema" }.count
        let schedule = listing.entries.filter { $0.component == "scheduler" }.count
        #expect(ema == 688 && schedule == 12)
        check(plan, ldm, diffusers, pairs: 686 + 248 + 196,
              onlyInA: [.ema: ema, .scheduleBuffer: schedule, .layoutOnly: 1])
        for pair in plan.pairs {
            let component = listing[name(ldm, pair.a)]?.component.flatMap { mechaComponents[$0] }
            #expect(pair.component == component, "\(pair.name)")
        }
        // Facts of checkpoint-formats §2b and §3.
        #expect(pair(plan, b: diffusers, named: "unet/up_blocks.0.upsamplers.0.conv.weight").map { name(ldm, $0.a) }
                == "model.diffusion_model.output_blocks.2.1.conv.weight")
        #expect(pair(plan, b: diffusers, named: "unet/up_blocks.1.upsamplers.0.conv.weight").map { name(ldm, $0.a) }
                == "model.diffusion_model.output_blocks.5.2.conv.weight")
        #expect(pair(plan, b: diffusers, named: "unet/down_blocks.2.downsamplers.0.conv.weight").map { name(ldm, $0.a) }
                == "model.diffusion_model.input_blocks.9.0.op.weight")
        #expect(pair(plan, b: diffusers, named: "vae/decoder.up_blocks.0.resnets.0.conv1.weight").map { name(ldm, $0.a) }
                == "first_stage_model.decoder.up.3.block.0.conv1.weight")
        let attention = pair(plan, b: diffusers, named: "vae/encoder.mid_block.attentions.0.to_q.weight")
        #expect(attention.map { name(ldm, $0.a) } == "first_stage_model.encoder.mid.attn_1.q.weight")
        #expect(attention?.transform == .reshape)
        #expect(plan.pairs.filter { $0.transform == .reshape }.count == 8)

        // The other direction pairs the same tensors.
        let back = Alignment.aligning(diffusers, ldm)
        check(back, diffusers, ldm, pairs: 686 + 248 + 196, onlyInA: [:],
              onlyInB: [.ema: ema, .scheduleBuffer: schedule, .layoutOnly: 1])
    }

    @Test func sd1LDMAliasesAndEMAAgainstDiffusersWithUNetEMA() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        // Old SD1 files: CLIP without `text_model.`, EMA names without `diffusion_model` (sd-mecha aliases).
        var listing = try Listing("sd-mecha/sd1-ldm.json")
        listing.entries = listing.entries.map { entry in
            var entry = entry
            if let alias = entry.aliases.first { entry.name = alias }
            return entry
        }
        #expect(listing.entries.contains { $0.name == "cond_stage_model.transformer.encoder.layers.0.mlp.fc1.weight" })
        let ldm = try store.file("sd1-ldm-aliases", listing)
        var components = try diffusersComponents("sd15", ["unet", "vae", "text_encoder"])
        components.append(("unet_ema", try Listing("diffusers/sd15_unet.json")))
        let diffusers = try store.folder("sd15-ema", components)

        let plan = Alignment.aligning(ldm, diffusers)
        // decay and num_updates: diffusers keeps them in unet_ema/config.json, so they are layout-only here.
        check(plan, ldm, diffusers, pairs: 686 * 2 + 248 + 196,
              onlyInA: [.scheduleBuffer: 12, .layoutOnly: 3])
        let emaPair = pair(plan, b: diffusers, named: "unet_ema/down_blocks.0.attentions.0.proj_in.weight")
        #expect(emaPair.map { name(ldm, $0.a) } == "model_ema.input_blocks11proj_inweight")
        #expect(emaPair?.component == .ema)
        #expect(plan.onlyInA.filter { $0.component == .ema }.map { ldm.tensors[$0.tensor].name }.sorted()
                == ["model_ema.decay", "model_ema.num_updates"])
    }

    /// The EMA name LitEma gives an LDM UNet key (checkpoint-formats §9), written out independently.
    func litEMAName(_ ldmKey: String) -> String {
        "model_ema." + ldmKey.split(separator: ".").dropFirst().joined()
    }

    @Test("--ema a: A's EMA copy is aligned where its live UNet would be; the live UNet is set aside")
    func sd1EMASelection() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let listing = try Listing("sd-mecha/sd1-ldm.json")
        let ldm = try store.file("sd1-ldm", listing)
        let diffusers = try store.folder("sd15", try diffusersComponents("sd15", ["unet", "vae", "text_encoder"]))

        let plan = try Alignment.aligning(ldm, diffusers, ema: .a)
        check(plan, ldm, diffusers, pairs: 686 + 248 + 196, onlyInA: [.setAside: 686 + 2, .scheduleBuffer: 12, .layoutOnly: 1])
        let unetPairs = plan.pairs.filter { $0.component == .unet }
        #expect(unetPairs.count == 686)
        // Each UNet pair reads the EMA tensor LitEma names after the live key that pairs by default.
        let live = Alignment.aligning(ldm, diffusers)
        let liveByB = Dictionary(uniqueKeysWithValues: live.pairs.filter { $0.component == .unet }.map { ($0.b.tensor, name(ldm, $0.a)) })
        for pair in unetPairs {
            let liveName = try #require(liveByB[pair.b.tensor])
            #expect(name(ldm, pair.a) == litEMAName(liveName))
        }
        let expectedAside = Set(listing.entries.filter { $0.component == "diffuser" }.map(\.name))
            .union(["model_ema.decay", "model_ema.num_updates"])
        #expect(Set(plan.onlyInA.filter { $0.kind == .setAside }.map { ldm.tensors[$0.tensor].name }) == expectedAside)

        // B has no EMA copy to stand for its UNet: refused, naming B.
        #expect(throws: CheckpointError.self) { try Alignment.aligning(ldm, diffusers, ema: .b) }
        #expect(throws: CheckpointError.self) { try Alignment.aligning(ldm, diffusers, ema: .both) }
        do {
            _ = try Alignment.aligning(ldm, diffusers, ema: .b)
        } catch {
            #expect(error.path == diffusers.path)
        }
    }

    @Test("the counterpart plan pairs B's UNet with A's other weights, tensor for tensor")
    func sd1EMACounterpart() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let ldm = try store.file("sd1-ldm", try Listing("sd-mecha/sd1-ldm.json"))
        let diffusers = try store.folder("sd15", try diffusersComponents("sd15", ["unet", "vae", "text_encoder"]))

        for (selection, mainIsEMA) in [(EMASelection.live, false), (.a, true)] {
            let main = try Alignment.aligning(ldm, diffusers, ema: selection)
            let counterpart = try #require(EMACounterpart.make(main, selection: selection))
            #expect(counterpart.side == .a && counterpart.mainIsEMA == mainIsEMA)
            #expect(counterpart.jobs.jobs.count == 686)
            for pair in counterpart.jobs.jobs {
                let mainPair = main[pair.tag]
                #expect(pair.b == mainPair.b)
                let (liveName, emaName) = mainIsEMA ? (name(ldm, pair.a), name(ldm, mainPair.a)) : (name(ldm, mainPair.a), name(ldm, pair.a))
                #expect(emaName == litEMAName(liveName))
            }
            // The same question the other way round: B's EMA copy tested against A's UNet.
            let back = try Alignment.aligning(diffusers, ldm, ema: selection == .a ? .b : .live)
            let other = try #require(EMACounterpart.make(back, selection: selection == .a ? .b : .live))
            #expect(other.side == .b && other.jobs.jobs.count == 686)
        }
        // Neither side or both sides with an EMA copy: no question to answer.
        #expect(EMACounterpart.make(Alignment.aligning(diffusers, diffusers), selection: .live) == nil)
        #expect(EMACounterpart.make(Alignment.aligning(ldm, ldm), selection: .live) == nil)
    }

    @Test func sdxlSGMAgainstDiffusers() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let listing = try Listing("sd-mecha/sdxl-sgm.json")
        let sgm = try store.file("sdxl-sgm", listing)
        let diffusers = try store.folder("sdxl", pipeline: "StableDiffusionXLPipeline",
                                         try diffusersComponents("sdxl", ["unet", "vae", "text_encoder", "text_encoder_2"]))
        let plan = Alignment.aligning(sgm, diffusers)
        // 517 HF keys of bigG come from 389 OpenCLIP keys; logit_scale and position_ids stay.
        check(plan, sgm, diffusers, pairs: 1680 + 248 + 196 + 517,
              onlyInA: [.layoutOnly: 2, .marker: 4, .scheduleBuffer: 12])

        let projection = pair(plan, b: diffusers, named: "text_encoder_2/text_projection.weight")
        #expect(projection.map { name(sgm, $0.a) } == "conditioner.embedders.1.model.text_projection")
        #expect(projection?.transform == .transpose)
        #expect(projection?.component == .openCLIP)
        for (index, part) in ["q_proj", "k_proj", "v_proj"].enumerated() {
            let sliced = pair(plan, b: diffusers, named: "text_encoder_2/text_model.encoder.layers.5.self_attn.\(part).weight")
            #expect(sliced.map { name(sgm, $0.a) } == "conditioner.embedders.1.model.transformer.resblocks.5.attn.in_proj_weight")
            #expect(sliced?.a.rows == (index * 1280)..<((index + 1) * 1280))
            #expect(sliced?.transform == .identity)
        }
        #expect(pair(plan, b: diffusers, named: "unet/up_blocks.0.upsamplers.0.conv.bias").map { name(sgm, $0.a) }
                == "model.diffusion_model.output_blocks.2.2.conv.bias")
        #expect(pair(plan, b: diffusers, named: "unet/add_embedding.linear_2.weight").map { name(sgm, $0.a) }
                == "model.diffusion_model.label_emb.0.2.weight")

        let back = Alignment.aligning(diffusers, sgm)
        check(back, diffusers, sgm, pairs: 1680 + 248 + 196 + 517, onlyInA: [:],
              onlyInB: [.layoutOnly: 2, .marker: 4, .scheduleBuffer: 12])
    }

    @Test func sdxlKohyaAgainstDiffusersAndSGM() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let kohya = try store.file("sdxl-kohya", try Listing("sd-mecha/sdxl-kohya.json"))
        let diffusers = try store.folder("sdxl", pipeline: "StableDiffusionXLPipeline",
                                         try diffusersComponents("sdxl", ["unet", "vae", "text_encoder", "text_encoder_2"]))
        let plan = Alignment.aligning(kohya, diffusers)
        check(plan, kohya, diffusers, pairs: 1680 + 248 + 196 + 517, onlyInA: [.layoutOnly: 1])
        #expect(pair(plan, b: diffusers, named: "text_encoder_2/text_projection.weight").map { (name(kohya, $0.a), $0.transform) }
                .map { $0.0 == "te2.text_projection.weight" && $0.1 == .identity } == true)

        let sgm = try store.file("sdxl-sgm", try Listing("sd-mecha/sdxl-sgm.json"))
        let cross = Alignment.aligning(kohya, sgm)
        // position_ids pairs (both have it); SGM keeps logit_scale, markers and schedule buffers.
        check(cross, kohya, sgm, pairs: 1680 + 248 + 197 + 517, onlyInA: [:],
              onlyInB: [.layoutOnly: 1, .marker: 4, .scheduleBuffer: 12])
        let projection = cross.pairs.first { name(kohya, $0.a) == "te2.text_projection.weight" }
        #expect(projection.map { name(sgm, $0.b) } == "conditioner.embedders.1.model.text_projection")
        #expect(projection?.transform == .transpose)
        // Same-layout names: the UNet keys are SGM names on both sides after the prefix, so pairs use canonical names.
        #expect(cross.pairs.contains { $0.name == "unet/conv_in.weight" })
    }

    @Test func sd1KohyaAgainstDiffusersAndLDM() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let kohya = try store.file("sd1-kohya", try Listing("sd-mecha/sd1-kohya.json"))
        let diffusers = try store.folder("sd15", try diffusersComponents("sd15", ["unet", "vae", "text_encoder"]))
        let plan = Alignment.aligning(kohya, diffusers)
        check(plan, kohya, diffusers, pairs: 1130, onlyInA: [:])
        #expect(plan.pairs.allSatisfy { $0.transform == .identity })
        #expect(plan.pairs.allSatisfy { name(kohya, $0.a).split(separator: ".", maxSplits: 1).last
                == name(diffusers, $0.b).split(separator: "/", maxSplits: 1).last })

        let ldm = try store.file("sd1-ldm", try Listing("sd-mecha/sd1-ldm.json"))
        let cross = Alignment.aligning(kohya, ldm)
        check(cross, kohya, ldm, pairs: 1130, onlyInA: [:], onlyInB: [.ema: 688, .scheduleBuffer: 12, .layoutOnly: 1])
        #expect(cross.pairs.filter { $0.transform == .reshape }.count == 8)
    }

    @Test func sdxlUNetOnlyFileAgainstDiffusersUNet() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let unetOnly = try store.file("sdxl-unet", try Listing("sd-mecha/sdxl-diffusers_unet_only.json"))
        let diffusers = try store.folder("sdxl", pipeline: "StableDiffusionXLPipeline", try diffusersComponents("sdxl", ["unet"]))
        let plan = Alignment.aligning(unetOnly, diffusers)
        check(plan, unetOnly, diffusers, pairs: 1680, onlyInA: [:])
        #expect(plan.pairs.allSatisfy { "unet/" + name(unetOnly, $0.a) == name(diffusers, $0.b) && $0.component == .unet })

        // Against the SGM file: the SGM's other components are real gaps for a UNet-only file.
        let sgm = try store.file("sdxl-sgm", try Listing("sd-mecha/sdxl-sgm.json"))
        let cross = Alignment.aligning(unetOnly, sgm)
        #expect(cross.pairs.count == 1680)
        #expect(cross.misalignedPairs(unetOnly, sgm).isEmpty)
        #expect(cross.onlyInB.filter { $0.kind == .weight }.count == 248 + 196 + 389)
    }

    @Test func prunedSDXLKeysAreOptional() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let full = try Listing("sd-mecha/sdxl-sgm.json")
        let pruned = full.filter { !$0.optional }
        let a = try store.file("full", full)
        let b = try store.file("pruned", pruned)
        let plan = Alignment.aligning(a, b)
        #expect(plan.onlyInB.isEmpty)
        #expect(plan.misalignedPairs(a, b).isEmpty)
        // Expected classes from sd-mecha's `optional` flags and components (checkpoint-formats §7).
        var expected: [LeftoverClass: Int] = [:]
        for entry in full.entries where entry.optional {
            let kind: LeftoverClass
            if entry.component == "scheduler" { kind = .scheduleBuffer }
            else if entry.component == "diffuser" { kind = .marker }
            else if entry.name.hasSuffix("position_ids") || entry.name.hasSuffix("logit_scale") { kind = .layoutOnly }
            else { kind = .optional }
            expected[kind, default: 0] += 1
        }
        #expect(Alignment.classes(plan.onlyInA) == expected)
        #expect(expected[.optional] == 16 + 2 + 12 + 2 + 1)
    }

    /// A ViT-H-shaped OpenCLIP tower in OpenCLIP naming (checkpoint-formats §5), at width 8.
    static func openCLIPTower(prefix: String, layers: Int, projection: Bool, logitScale: Bool, width: Int = 8) -> Listing {
        var list: [Listing.Entry] = []
        func add(_ name: String, _ shape: [Int]) {
            list.append(.init(name: prefix + name, dtype: .f32, shape: shape, component: nil, optional: false, aliases: []))
        }
        add("token_embedding.weight", [100, width])
        add("positional_embedding", [77, width])
        for layer in 0..<layers {
            let block = "transformer.resblocks.\(layer)."
            add(block + "attn.in_proj_weight", [3 * width, width])
            add(block + "attn.in_proj_bias", [3 * width])
            for (module, shape) in [("attn.out_proj", [width, width]), ("ln_1", [width]), ("ln_2", [width]),
                                    ("mlp.c_fc", [4 * width, width]), ("mlp.c_proj", [width, 4 * width])] {
                add(block + module + ".weight", shape)
                add(block + module + ".bias", [shape[0]])
            }
        }
        add("ln_final.weight", [width])
        add("ln_final.bias", [width])
        if projection { add("text_projection", [width, width]) }
        if logitScale { add("logit_scale", []) }
        return Listing(entries: list)
    }

    /// The same tower as a HF `CLIPTextModel` (transformers naming), optionally flattened (no `text_model.`).
    static func hfTower(layers: Int, width: Int = 8, flattened: Bool = false) -> Listing {
        var list: [Listing.Entry] = []
        let root = flattened ? "" : "text_model."
        func add(_ name: String, _ shape: [Int]) {
            list.append(.init(name: name, dtype: .f32, shape: shape, component: nil, optional: false, aliases: []))
        }
        add(root + "embeddings.token_embedding.weight", [100, width])
        add(root + "embeddings.position_embedding.weight", [77, width])
        for layer in 0..<layers {
            let prefix = root + "encoder.layers.\(layer)."
            for (module, shape) in [("self_attn.q_proj", [width, width]), ("self_attn.k_proj", [width, width]),
                                    ("self_attn.v_proj", [width, width]), ("self_attn.out_proj", [width, width]),
                                    ("layer_norm1", [width]), ("layer_norm2", [width]),
                                    ("mlp.fc1", [4 * width, width]), ("mlp.fc2", [width, 4 * width])] {
                add(prefix + module + ".weight", shape)
                add(prefix + module + ".bias", [shape[0]])
            }
        }
        add(root + "final_layer_norm.weight", [width])
        add(root + "final_layer_norm.bias", [width])
        return Listing(entries: list)
    }

    @Test func sd2TextEncoderPlaceholders() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let diffusers = try store.folder("sd2", [("text_encoder", Self.hfTower(layers: 23))])
        let hfCount = 23 * 16 + 4

        // An original SD2 tower (24 resblocks, projection, logit_scale), or kohya's dummy-filled one.
        let original = try store.file("sd2-original",
                                      Self.openCLIPTower(prefix: "cond_stage_model.model.", layers: 24, projection: true, logitScale: true))
        let plan = Alignment.aligning(original, diffusers)
        #expect(plan.onlyInB.isEmpty && plan.pairs.count == hfCount)
        #expect(plan.misalignedPairs(original, diffusers).isEmpty)
        #expect(Alignment.classes(plan.onlyInA) == [.placeholder: 13, .layoutOnly: 1])
        #expect(plan.pairs.allSatisfy { $0.component == .openCLIP })

        // OneTrainer's SD2 output: 23 resblocks, a ones projection, logit_scale.
        let oneTrainer = try store.file("sd2-onetrainer",
                                        Self.openCLIPTower(prefix: "cond_stage_model.model.", layers: 23, projection: true, logitScale: true))
        let againstDiffusers = Alignment.aligning(oneTrainer, diffusers)
        #expect(againstDiffusers.pairs.count == hfCount && againstDiffusers.onlyInB.isEmpty)
        #expect(Alignment.classes(againstDiffusers.onlyInA) == [.placeholder: 1, .layoutOnly: 1])
        let againstOriginal = Alignment.aligning(original, oneTrainer)
        // Same naming on both sides: pairs by name, fused tensors whole.
        #expect(againstOriginal.pairs.count == 23 * 12 + 6)
        #expect(againstOriginal.pairs.allSatisfy { $0.a.rows == nil && $0.b.rows == nil
                && original.tensors[$0.a.tensor].name == oneTrainer.tensors[$0.b.tensor].name })
        #expect(Alignment.classes(againstOriginal.onlyInA) == [.placeholder: 12])

        // SD2 saved the SGM way (ComfyUI accepts both): fused on both sides, folded back to whole tensors.
        let sgm = try store.file("sd2-sgm",
                                 Self.openCLIPTower(prefix: "conditioner.embedders.0.model.", layers: 24, projection: true, logitScale: true))
        let folded = Alignment.aligning(original, sgm)
        #expect(folded.onlyInA.isEmpty && folded.onlyInB.isEmpty && folded.pairs.count == 24 * 12 + 6)
        #expect(folded.pairs.allSatisfy { $0.a.rows == nil && $0.b.rows == nil && $0.transform == .identity })
        #expect(folded.pairs.contains { $0.name == "cond_stage_model.model.transformer.resblocks.3.attn.in_proj_weight"
                && sgm.tensors[$0.b.tensor].name == "conditioner.embedders.0.model.transformer.resblocks.3.attn.in_proj_weight" })
    }

    @Test func flattenedCLIPAndLegacyVAENames() throws {
        // transformers ≥ 5.6 flattened CLIPTextModel; diffusers < 0.17 VAE attention names.
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let ldm = try store.file("sd1-ldm", try Listing("sd-mecha/sd1-ldm.json"))
        let legacy = [("to_q.", "query."), ("to_k.", "key."), ("to_v.", "value."), ("to_out.0.", "proj_attn.")]
        var vae = try Listing("diffusers/sd15_vae.json")
        vae.entries = vae.entries.map { entry in
            var entry = entry
            for (modern, old) in legacy where entry.name.contains("mid_block.attentions.0." + modern) {
                entry.name = entry.name.replacingOccurrences(of: "mid_block.attentions.0." + modern, with: "mid_block.attentions.0." + old)
            }
            return entry
        }
        #expect(vae.entries.filter { $0.name.contains(".query.") }.count == 4)
        var clip = try Listing("diffusers/sd15_text_encoder.json")
        clip.entries = clip.entries.map { var e = $0; e.name = String(e.name.dropFirst("text_model.".count)); return e }
        let diffusers = try store.folder("sd15-old", [("unet", try Listing("diffusers/sd15_unet.json")), ("vae", vae), ("text_encoder", clip)])
        let plan = Alignment.aligning(diffusers, ldm)
        check(plan, diffusers, ldm, pairs: 686 + 248 + 196, onlyInA: [:], onlyInB: [.ema: 688, .scheduleBuffer: 12, .layoutOnly: 1])
        #expect(pair(plan, b: ldm, named: "first_stage_model.decoder.mid.attn_1.proj_out.weight").map { name(diffusers, $0.a) }
                == "vae/decoder.mid_block.attentions.0.proj_attn.weight")
        #expect(pair(plan, b: ldm, named: "cond_stage_model.transformer.text_model.final_layer_norm.bias").map { name(diffusers, $0.a) }
                == "text_encoder/final_layer_norm.bias")
    }

    @Test func unpatchedUpsamplerIndexAndLinearProjections() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        // The diffusers SDXL script first writes the upsampler of up_blocks.0 as `output_blocks.2.1.conv`.
        var sgm = try Listing("sd-mecha/sdxl-sgm.json")
        sgm.entries = sgm.entries.map { entry in
            var entry = entry
            entry.name = entry.name.replacingOccurrences(of: "output_blocks.2.2.conv.", with: "output_blocks.2.1.conv.")
            return entry
        }
        let file = try store.file("sdxl-unpatched", sgm)
        let diffusers = try store.folder("sdxl", pipeline: "StableDiffusionXLPipeline", try diffusersComponents("sdxl", ["unet"]))
        let plan = Alignment.aligning(file, diffusers)
        #expect(plan.onlyInB.isEmpty && plan.pairs.count == 1680)
        #expect(pair(plan, b: diffusers, named: "unet/up_blocks.0.upsamplers.0.conv.weight").map { name(file, $0.a) }
                == "model.diffusion_model.output_blocks.2.1.conv.weight")

        // SD1 LDM with linear projections (as kohya saves an SD2-style UNet) against conv projections: a reshape.
        var ldm = try Listing("sd-mecha/sd1-ldm.json").filter { $0.component == "diffuser" }
        ldm.entries = ldm.entries.map { entry in
            var entry = entry
            if entry.name.hasSuffix("proj_in.weight") || entry.name.hasSuffix("proj_out.weight") { entry.shape = Array(entry.shape.prefix(2)) }
            return entry
        }
        let linear = try store.file("sd1-linear", ldm)
        let sd15 = try store.folder("sd15", try diffusersComponents("sd15", ["unet"]))
        let reshaped = Alignment.aligning(linear, sd15)
        #expect(reshaped.pairs.count == 686 && reshaped.onlyInA.isEmpty && reshaped.onlyInB.isEmpty)
        #expect(reshaped.misalignedPairs(linear, sd15).isEmpty)
        #expect(reshaped.pairs.filter { $0.transform == .reshape }.count == 16 * 2)
    }

    @Test func loneVAEFileByItsFolderName() throws {
        let store = try SparseCheckpoints()
        defer { store.remove() }
        let folder = store.root.appendingPathComponent("vae")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("diffusion_pytorch_model.safetensors").path
        try SafetensorsWriter.writeSparse(try Listing("diffusers/sdxl_vae.json").tensors, to: path)
        let vae = try Checkpoint.open(path)
        #expect(vae.componentFolderHint == "vae")
        let sgm = try store.file("sdxl-sgm", try Listing("sd-mecha/sdxl-sgm.json"))
        let plan = Alignment.aligning(vae, sgm)
        #expect(plan.pairs.count == 248 && plan.onlyInA.isEmpty)
        #expect(plan.misalignedPairs(vae, sgm).isEmpty)
        #expect(plan.pairs.allSatisfy { $0.component == .vae && $0.name.hasPrefix("vae/") })
    }
}

/// The tiny pipelines against diffusers' own single-file conversions: every pair must be the
/// correspondence the provenance JSONs found by value.
@Suite("Alignment against the reference conversions")
struct ReferenceAlignmentTests {
    struct Provenance {
        var sources: [String]
        var transform: String
    }

    static func provenance(_ name: String) throws -> [String: Provenance] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("reference/single_file/provenance/\(name).json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        return try object.mapValues { value in
            let transform = try #require(value["transform"] as? String)
            if let one = value["from"] as? String { return Provenance(sources: [one], transform: transform) }
            return Provenance(sources: try #require(value["from"] as? [String]), transform: transform)
        }
    }

    @Test(arguments: [("sd15_tiny_diffusers", "sd15_tiny_ldm_fp32", 986), ("sd15_tiny_diffusers", "sd15_tiny_ldm_fp16", 986),
                      ("sdxl_tiny_diffusers", "sdxl_tiny_sgm_fp32", 1045), ("sdxl_tiny_diffusers", "sdxl_tiny_sgm_fp16", 1045)])
    func pairsFollowProvenance(folder: String, file: String, count: Int) throws {
        let diffusers = try Checkpoint.open(Fixtures.path("reference/\(folder)"))
        let single = try Checkpoint.open(Fixtures.path("reference/single_file/\(file).safetensors"))
        let provenance = try Self.provenance(file)
        #expect(single.tensors.count == count && provenance.count == count)

        for (a, b, singleIsA) in [(diffusers, single, false), (single, diffusers, true)] {
            let plan = Alignment.aligning(a, b)
            #expect(plan.onlyInA.isEmpty && plan.onlyInB.isEmpty,
                    "\(plan.onlyInA.prefix(5).map { a.tensors[$0.tensor].name }) \(plan.onlyInB.prefix(5).map { b.tensors[$0.tensor].name })")
            // Every single-file tensor pairs: with row slices of its own for fused tensors.
            var used: [String: [Range<Int>?]] = [:]
            var usedFolder: [String: Int] = [:]
            for pair in plan.pairs {
                // A and B views have different types (their sides): read each as (tensor, rows).
                typealias View = (tensor: Int, rows: Range<Int>?)
                let viewA: View = (pair.a.tensor, pair.a.rows), viewB: View = (pair.b.tensor, pair.b.rows)
                let singleView = singleIsA ? viewA : viewB
                let folderView = singleIsA ? viewB : viewA
                let singleName = single.tensors[singleView.tensor].name
                let folderName = diffusers.tensors[folderView.tensor].name
                used[singleName, default: []].append(singleView.rows)
                usedFolder[folderName, default: 0] += 1
                #expect(folderView.rows == nil)
                guard let origin = provenance[singleName] else {
                    Issue.record("\(singleName) has no provenance")
                    continue
                }
                switch origin.transform {
                case "concat_dim0":
                    let part = try #require(origin.sources.firstIndex(of: folderName), "\(singleName) ⇐ \(folderName)")
                    let outer = single.tensors[singleView.tensor].info.shape[0]
                    let size = outer / origin.sources.count
                    #expect(singleView.rows == (part * size)..<((part + 1) * size), "\(singleName)")
                    #expect(pair.transform == .identity)
                case "transpose":
                    #expect(origin.sources == [folderName] && pair.transform == .transpose, "\(singleName)")
                case let text where text.hasPrefix("reshape"):
                    #expect(origin.sources == [folderName] && pair.transform == .reshape, "\(singleName)")
                default:
                    #expect(origin.transform == "identity")
                    #expect(origin.sources == [folderName] && pair.transform == .identity && singleView.rows == nil, "\(singleName)")
                }
            }
            let missing = Set(provenance.keys).subtracting(used.keys)
            let extra = Set(used.keys).subtracting(provenance.keys)
            #expect(missing.isEmpty && extra.isEmpty, "\(missing.sorted().prefix(5)) \(extra.sorted().prefix(5))")
            for (name, origin) in provenance {
                #expect(used[name]?.count == origin.sources.count, "\(name)")
            }
            #expect(usedFolder.count == diffusers.tensors.count && usedFolder.values.allSatisfy { $0 == 1 })
        }
    }

    @Test func sameLayoutPairsByName() throws {
        let a = try Checkpoint.open(Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors"))
        let b = try Checkpoint.open(Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors"))
        let plan = Alignment.aligning(a, b)
        #expect(plan.pairs.count == 1045 && plan.onlyInA.isEmpty && plan.onlyInB.isEmpty)
        #expect(plan.pairs.allSatisfy { $0.name == a.tensors[$0.a.tensor].name && a.tensors[$0.a.tensor].name == b.tensors[$0.b.tensor].name
                && $0.a.rows == nil && $0.b.rows == nil && $0.transform == .identity })
        #expect(plan.pairs.map(\.a.tensor) == Array(a.tensors.indices))
    }
}
