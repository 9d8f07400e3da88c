import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import Checkpoints

/// Layout, architecture and component detection against data real tools produced: sd-mecha's
/// full-size listings, diffusers' meta-device listings, and the tiny reference pipelines with
/// their single-file conversions by diffusers' own scripts.
@Suite("Detection")
struct DetectionTests {
    /// sd-mecha's component names in ckdiff's terms.
    static func component(sdMecha name: String) -> Component? {
        switch name {
        case "diffuser": return .unet
        case "vae": return .vae
        case "clip_l": return .clipL
        case "clip_g": return .openCLIP
        case "ema": return .ema
        case "scheduler": return .other
        default: return nil
        }
    }

    /// Marker tensors that sd-mecha files under "diffuser" but that are not UNet weights
    /// (checkpoint-formats §7: ComfyUI/OneTrainer prediction flags), so ckdiff counts them as other.
    static let markers: Set<String> = ["v_pred", "ztsnr", "edm_vpred.sigma_max", "edm_vpred.sigma_min"]

    /// Tensors per component of an identity.
    static func counts(_ identity: CheckpointIdentity) -> [Component: Int] {
        identity.components.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    // MARK: - Full-size listings

    @Test("sd-mecha full-size listings as single files", arguments: [
        ("sd1-ldm", Architecture.sd1, Layout.ldm),
        ("sdxl-sgm", .sdxlBase, .sgm),
        ("sdxl-diffusers_unet_only", .sdxlBase, .diffusers),
        ("sd1-kohya", .sd1, .kohyaFlattened),
        ("sdxl-kohya", .sdxlBase, .kohyaFlattened),
    ])
    func sdMechaListing(name: String, architecture: Architecture, layout: Layout) throws {
        let listing = try Listing("sd-mecha/\(name).json")
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let checkpoint = try store.file(name, listing)
        let identity = checkpoint.identify()
        #expect(identity.layout == layout)
        #expect(identity.architecture == architecture, "evidence: \(identity.evidence)")

        var expected: [Component: Int] = [:]
        for entry in listing.entries {
            let sdMecha = try #require(entry.component, "\(entry.name) has no component")
            let component = Self.markers.contains(entry.name) ? .other : try #require(Self.component(sdMecha: sdMecha))
            expected[component, default: 0] += 1
        }
        #expect(Self.counts(identity) == expected)

        // Every tensor lands where sd-mecha puts it (markers aside).
        let byName = Dictionary(uniqueKeysWithValues: listing.entries.map { ($0.name, $0.component ?? "") })
        let wrong = checkpoint.tensors.indices.filter { index in
            let name = checkpoint.tensors[index].name
            let want = Self.markers.contains(name) ? .other : Self.component(sdMecha: byName[name] ?? "")
            return identity.components[index] != want
        }
        #expect(wrong.isEmpty, "misclassified: \(wrong.prefix(5).map { checkpoint.tensors[$0].name })")
    }

    @Test("the counts the corpus states: REFERENCE_README §4 and checkpoint-formats §15")
    func statedCounts() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        // sd1-ldm: clip_l 197, vae 248, diffuser 686, ema 688, scheduler 12 (REFERENCE_README §4).
        let sd1 = try store.file("sd1-ldm", try Listing("sd-mecha/sd1-ldm.json")).identify()
        #expect(Self.counts(sd1) == [.clipL: 197, .vae: 248, .unet: 686, .ema: 688, .other: 12])
        // sdxl-sgm: clip_l 197, clip_g 390, vae 248, diffuser 1684 (1680 + the four optional
        // markers), scheduler 12 (checkpoint-formats §15); the markers are not UNet weights.
        let sdxl = try store.file("sdxl-sgm", try Listing("sd-mecha/sdxl-sgm.json")).identify()
        #expect(Self.counts(sdxl) == [.clipL: 197, .openCLIP: 390, .vae: 248, .unet: 1680, .other: 12 + 4])
        // The diffusers listings (REFERENCE_README §4): SD1.5 unet 686, vae 248, text_encoder 196;
        // SDXL unet 1680, vae 248, text_encoder 196, text_encoder_2 517.
        let sd15 = try store.folder("sd15", pipeline: "StableDiffusionPipeline",
                                    try ["unet", "vae", "text_encoder"].map { ($0, try Listing("diffusers/sd15_\($0).json")) })
        #expect(Self.counts(sd15.identify()) == [.unet: 686, .vae: 248, .clipL: 196])
        let xl = try store.folder("sdxl", pipeline: "StableDiffusionXLPipeline",
                                  try ["unet", "vae", "text_encoder", "text_encoder_2"].map { ($0, try Listing("diffusers/sdxl_\($0).json")) })
        #expect(Self.counts(xl.identify()) == [.unet: 1680, .vae: 248, .clipL: 196, .openCLIP: 517])
    }

    @Test("sd1-ldm: the EMA copy covers every UNet tensor; decay and num_updates are not counted as copies")
    func sd1EMA() throws {
        let listing = try Listing("sd-mecha/sd1-ldm.json")
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let identity = try store.file("sd1-ldm", listing).identify()
        let emaKeys = listing.entries.filter { $0.component == "ema" }.map(\.name)
        let scalars = emaKeys.filter { $0 == "model_ema.decay" || $0 == "model_ema.num_updates" }
        #expect(scalars.count == 2)
        #expect(identity.ema == EMACoverage(tensors: emaKeys.count - 2, unetTensors: listing.entries.filter { $0.component == "diffuser" }.count))
        #expect(identity.ema.status == .present)

        // Half the EMA copies gone: partial.
        let pruned = listing.filter { $0.component != "ema" || !$0.name.hasPrefix("model_ema.diffusion_modeloutput") }
        let partial = try store.file("sd1-ldm-pruned-ema", pruned).identify()
        #expect(partial.ema.status == .partial)
        #expect(partial.ema.tensors < partial.ema.unetTensors)

        // No EMA keys at all: absent.
        let none = try store.file("sd1-ldm-no-ema", listing.filter { $0.component != "ema" }).identify()
        #expect(none.ema.status == .absent)
        #expect(none.ema.tensors == 0)
    }

    @Test("diffusers full-size listings as pipeline folders", arguments: [
        ("sd15", "StableDiffusionPipeline", Architecture.sd1, ["unet": Component.unet, "vae": .vae, "text_encoder": .clipL]),
        ("sdxl", "StableDiffusionXLPipeline", .sdxlBase,
         ["unet": .unet, "vae": .vae, "text_encoder": .clipL, "text_encoder_2": .openCLIP]),
    ])
    func diffusersListing(model: String, pipeline: String, architecture: Architecture, folders: [String: Component]) throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let listings = try folders.keys.sorted().map { ($0, try Listing("diffusers/\(model)_\($0).json")) }
        let checkpoint = try store.folder(model, pipeline: pipeline, listings)
        let identity = checkpoint.identify()
        #expect(identity.layout == .diffusers)
        #expect(identity.architecture == architecture, "evidence: \(identity.evidence)")
        var expected: [Component: Int] = [:]
        for (folder, listing) in listings { expected[folders[folder] ?? .other, default: 0] += listing.entries.count }
        #expect(Self.counts(identity) == expected)
        #expect(identity.evidence.contains { $0.contains("agrees") }, "evidence: \(identity.evidence)")
    }

    @Test("a lone SDXL UNet: component folder and diffusers-named file")
    func loneUNet() throws {
        let listing = try Listing("diffusers/sdxl_unet.json")
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let unet = store.root.appendingPathComponent("unet")
        try FileManager.default.createDirectory(at: unet, withIntermediateDirectories: true)
        try Data("{\"_class_name\": \"UNet2DConditionModel\"}".utf8).write(to: unet.appendingPathComponent("config.json"))
        let file = unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path
        try SafetensorsWriter.writeSparse(listing.tensors, to: file)
        for checkpoint in [try Checkpoint.open(unet.path), try Checkpoint.open(file)] {
            let identity = checkpoint.identify()
            #expect(identity.layout == .diffusers)
            #expect(identity.architecture == .sdxlBase, "evidence: \(identity.evidence)")
            #expect(Self.counts(identity) == [.unet: listing.entries.count])
            #expect(identity.evidence.first?.contains("add_embedding.linear_1.weight [1280, 2816]") == true, "evidence: \(identity.evidence)")
        }
    }

    // MARK: - Tiny reference pipelines and their conversions

    /// Components by the folder a single-file tensor came from, per the provenance files
    /// (found by value, independently of any mapping table).
    static func provenanceCounts(_ file: String) throws -> [Component: Int] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("reference/single_file/provenance/\(file).json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        var counts: [Component: Int] = [:]
        for (_, entry) in object {
            let source = (entry["from"] as? String) ?? ((entry["from"] as? [String])?.first ?? "")
            let folder = source.split(separator: "/").first.map(String.init) ?? ""
            let component: Component = ["unet": .unet, "vae": .vae, "text_encoder": .clipL, "text_encoder_2": .openCLIP][folder] ?? .other
            counts[component, default: 0] += 1
        }
        return counts
    }

    @Test("tiny single files converted by diffusers' scripts", arguments: [
        ("sd15_tiny_ldm_fp32", Architecture.sd1, Layout.ldm),
        ("sd15_tiny_ldm_fp16", .sd1, .ldm),
        ("sdxl_tiny_sgm_fp32", .sdxlBase, .sgm),
        ("sdxl_tiny_sgm_fp16", .sdxlBase, .sgm),
    ])
    func tinySingleFile(name: String, architecture: Architecture, layout: Layout) throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("reference/single_file/\(name).safetensors"))
        let identity = checkpoint.identify()
        #expect(identity.layout == layout)
        #expect(identity.architecture == architecture, "evidence: \(identity.evidence)")
        let expected = try Self.provenanceCounts(name)
        #expect(Self.counts(identity) == expected)
        // The counts the corpus README states.
        if architecture == .sd1 {
            #expect(expected == [.unet: 686, .vae: 248, .clipL: 52])
        } else {
            #expect(expected == [.unet: 720, .vae: 248, .clipL: 36, .openCLIP: 41])
        }
        #expect(identity.ema.status == .absent)
    }

    @Test("tiny diffusers pipelines", arguments: [
        ("sd15_tiny_diffusers", Architecture.sd1, [Component.unet: 686, .vae: 248, .clipL: 52]),
        ("sdxl_tiny_diffusers", .sdxlBase, [.unet: 720, .vae: 248, .clipL: 36, .openCLIP: 53]),
    ])
    func tinyFolder(name: String, architecture: Architecture, expected: [Component: Int]) throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("reference/\(name)"))
        let identity = checkpoint.identify()
        #expect(identity.layout == .diffusers)
        #expect(identity.architecture == architecture, "evidence: \(identity.evidence)")
        #expect(Self.counts(identity) == expected)
        // Each folder's tensors, counted from its own header, match.
        for (folder, component) in ["unet": Component.unet, "vae": .vae, "text_encoder": .clipL, "text_encoder_2": .openCLIP] {
            let inFolder = checkpoint.tensors.indices.filter { checkpoint.tensors[$0].folder == folder }
            #expect(inFolder.allSatisfy { identity.components[$0] == component })
        }
    }

    @Test("tiny UNets: structure decides when shapes are scaled down")
    func tinyStructure() throws {
        let sdxl = try Checkpoint.open(Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")).identify()
        #expect(sdxl.evidence.first?.hasPrefix("model.diffusion_model.label_emb.0.0.weight [32, 80]") == true, "\(sdxl.evidence)")
        #expect(sdxl.evidence.contains { $0.contains("decided by structure") })
        let sd15 = try Checkpoint.open(Fixtures.path("reference/single_file/sd15_tiny_ldm_fp32.safetensors")).identify()
        #expect(sd15.evidence.first?.contains("1×1-conv projections (SD1)") == true, "\(sd15.evidence)")
    }

    // MARK: - Families built from the listings

    /// The SD1.5 diffusers UNet listing with SD2's differences: 1024-wide cross-attention
    /// context and linear projections (checkpoint-formats §10, ComfyUI SD20).
    static func sd2UNet() throws -> Listing {
        var listing = try Listing("diffusers/sd15_unet.json")
        for index in listing.entries.indices {
            let name = listing.entries[index].name
            if name.hasSuffix("attn2.to_k.weight") || name.hasSuffix("attn2.to_v.weight") {
                listing.entries[index].shape[1] = 1024
            }
            if (name.hasSuffix("proj_in.weight") || name.hasSuffix("proj_out.weight")) && listing.entries[index].shape.count == 4 {
                listing.entries[index].shape = Array(listing.entries[index].shape.prefix(2))
            }
        }
        return listing
    }

    @Test("SD2: 1024-wide context and an OpenCLIP ViT-H text encoder")
    func sd2() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        // A ViT-H text encoder in HF form: the CLIP-L listing 1024 wide.
        let encoder = Listing(entries: try Listing("diffusers/sd15_text_encoder.json").entries.map { entry in
            var e = entry
            e.shape = e.shape.map { $0 == 768 ? 1024 : ($0 == 3072 ? 4096 : $0) }
            return e
        })
        let checkpoint = try store.folder("sd2", pipeline: "StableDiffusionPipeline", [("unet", try Self.sd2UNet()), ("text_encoder", encoder)])
        let identity = checkpoint.identify()
        #expect(identity.architecture == .sd2, "evidence: \(identity.evidence)")
        #expect(Self.counts(identity) == [.unet: 686, .openCLIP: 196])
        // The same UNet alone: the context width decides.
        let unet = try store.file("sd2-unet", try Self.sd2UNet()).identify()
        #expect(unet.architecture == .sd2)
        #expect(unet.evidence.first?.contains("[320, 1024]: context 1024 wide") == true, "\(unet.evidence)")
    }

    @Test("text encoders alone: SGM CLIP-L with bigG is SDXL base; bigG alone at embedders.0 is the refiner")
    func encodersAlone() throws {
        let listing = try Listing("sd-mecha/sdxl-sgm.json")
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let encoders = listing.filter { $0.component == "clip_l" || $0.component == "clip_g" }
        let base = try store.file("encoders", encoders).identify()
        #expect(base.architecture == .sdxlBase)
        let refinerEncoder = Listing(entries: listing.entries.filter { $0.component == "clip_g" }.map { entry in
            var e = entry
            e.name = e.name.replacingOccurrences(of: "conditioner.embedders.1.", with: "conditioner.embedders.0.")
            return e
        })
        let refiner = try store.file("refiner-encoder", refinerEncoder).identify()
        #expect(refiner.layout == .sgm)
        #expect(refiner.architecture == .sdxlRefiner, "\(refiner.evidence)")
        #expect(Self.counts(refiner) == [.openCLIP: refinerEncoder.entries.count])
        let vae = try store.file("vae", listing.filter { $0.component == "vae" }).identify()
        #expect(vae.layout == .ldm)
        #expect(vae.architecture == .unknown)
        #expect(Self.counts(vae) == [.vae: 248])
    }

    /// The SDXL refiner's diffusers UNet (the independent oracle of the mapping tests, from
    /// stabilityai/stable-diffusion-xl-refiner-1.0's `unet/config.json`).
    static func refinerUNet() -> Listing {
        Listing(entries: DiffusersUNetModel.sdxlRefiner.keys().map {
            .init(name: $0.name, dtype: .f16, shape: $0.shape, component: nil, optional: false, aliases: [])
        })
    }

    /// sdxl-sgm's OpenCLIP bigG moved to the refiner's slot, `conditioner.embedders.0.model.`.
    static func refinerBigG() throws -> Listing {
        Listing(entries: try Listing("sd-mecha/sdxl-sgm.json").entries.filter { $0.component == "clip_g" }.map { entry in
            var e = entry
            e.name = e.name.replacingOccurrences(of: "conditioner.embedders.1.", with: "conditioner.embedders.0.")
            return e
        })
    }

    @Test("SDXL refiner: a diffusers folder and an SGM single file with a 2560-wide added embedding")
    func refiner() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let unet = Self.refinerUNet()
        let folder = try store.folder("refiner", pipeline: "StableDiffusionXLImg2ImgPipeline",
                                      [("unet", unet), ("text_encoder_2", try Listing("diffusers/sdxl_text_encoder_2.json"))])
        let identity = folder.identify()
        #expect(identity.layout == .diffusers)
        #expect(identity.architecture == .sdxlRefiner, "evidence: \(identity.evidence)")
        #expect(Self.counts(identity) == [.unet: unet.entries.count, .openCLIP: 517])
        #expect(identity.evidence.first?.contains("add_embedding.linear_1.weight [1536, 2560]") == true, "\(identity.evidence)")

        // The same UNet under SGM names (the table the mapping tests check against this oracle).
        let table = MappingTable.make(family: .sdxlRefiner, from: .diffusers, to: .sgm)
        let shapes = Dictionary(unet.entries.map { ("unet/" + $0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        var single = Listing(entries: table.rows.compactMap { row in
            guard row.component == .unet, let source = row.source, let target = row.target, let shape = shapes[source] else { return nil }
            return .init(name: target, dtype: .f16, shape: shape, component: nil, optional: false, aliases: [])
        })
        #expect(single.entries.count == unet.entries.count)
        let bigG = try Self.refinerBigG()
        single.entries += bigG.entries
        let file = try store.file("refiner-sgm", single).identify()
        #expect(file.layout == .sgm)
        #expect(file.architecture == .sdxlRefiner, "evidence: \(file.evidence)")
        #expect(Self.counts(file) == [.unet: unet.entries.count, .openCLIP: bigG.entries.count])
        #expect(file.evidence.first?.contains("label_emb.0.0.weight [1536, 2560]") == true, "\(file.evidence)")
    }

    @Test("a few refiner-shaped keys: label_emb [C, 2560] with OpenCLIP at conditioner.embedders.0.model.")
    func refinerFewKeys() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let keys: [(String, [Int])] = [
            ("model.diffusion_model.input_blocks.0.0.weight", [384, 4, 3, 3]),
            ("model.diffusion_model.label_emb.0.0.weight", [1536, 2560]),
            ("model.diffusion_model.out.2.weight", [4, 384, 3, 3]),
            ("conditioner.embedders.0.model.token_embedding.weight", [49408, 1280]),
            ("conditioner.embedders.0.model.transformer.resblocks.0.attn.in_proj_weight", [3840, 1280]),
            ("first_stage_model.decoder.conv_in.weight", [512, 4, 3, 3]),
        ]
        let identity = try Self.adapter(store, "refiner-few", keys)
        #expect(identity.layout == .sgm)
        #expect(identity.architecture == .sdxlRefiner, "evidence: \(identity.evidence)")
        #expect(Self.counts(identity) == [.unet: 3, .openCLIP: 2, .vae: 1])
        // 2816 wide with CLIP-L beside bigG: the base.
        let base = try Self.adapter(store, "base-few", [
            ("model.diffusion_model.input_blocks.0.0.weight", [320, 4, 3, 3]),
            ("model.diffusion_model.label_emb.0.0.weight", [1280, 2816]),
            ("conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight", [49408, 768]),
            ("conditioner.embedders.1.model.token_embedding.weight", [49408, 1280]),
        ])
        #expect(base.architecture == .sdxlBase, "evidence: \(base.evidence)")
    }

    @Test("SD2 as an LDM single file: attn2.to_k [320, 1024] and OpenCLIP ViT-H at cond_stage_model.model.")
    func sd2SingleFile() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        // sd1-ldm with SD2's differences (checkpoint-formats §10): 1024-wide context, linear
        // projections, and the bigG listing cut to ViT-H (1024 wide, 24 layers) at cond_stage_model.model.
        let sd1 = try Listing("sd-mecha/sd1-ldm.json").filter { $0.component != "clip_l" && $0.component != "ema" }
        let unet = Listing(entries: sd1.entries.map { entry in
            var e = entry
            if e.name.hasSuffix("attn2.to_k.weight") || e.name.hasSuffix("attn2.to_v.weight") { e.shape[1] = 1024 }
            if (e.name.hasSuffix("proj_in.weight") || e.name.hasSuffix("proj_out.weight")) && e.shape.count == 4 {
                e.shape = Array(e.shape.prefix(2))
            }
            return e
        })
        let vitH = Listing(entries: try Listing("sd-mecha/sdxl-sgm.json").entries.compactMap { entry in
            guard entry.component == "clip_g" else { return nil }
            if let range = entry.name.range(of: "resblocks."),
               let layer = Int(entry.name[range.upperBound...].prefix { $0.isNumber }), layer >= 24 { return nil }
            var e = entry
            e.name = e.name.replacingOccurrences(of: "conditioner.embedders.1.model.", with: "cond_stage_model.model.")
            e.shape = e.shape.map { [1280: 1024, 3840: 3072, 5120: 4096][$0] ?? $0 }
            return e
        })
        let identity = try store.file("sd2-ldm", Listing(entries: unet.entries + vitH.entries)).identify()
        #expect(identity.layout == .ldm)
        #expect(identity.architecture == .sd2, "evidence: \(identity.evidence)")
        #expect(Self.counts(identity) == [.unet: 686, .vae: 248, .other: 12, .openCLIP: vitH.entries.count])
        #expect(identity.evidence.first?.contains("attn2.to_k.weight [320, 1024]") == true, "\(identity.evidence)")

        // A handful of keys: the context width and the encoder's namespace still tell.
        let few = try Self.adapter(store, "sd2-few", [
            ("model.diffusion_model.input_blocks.0.0.weight", [320, 4, 3, 3]),
            ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", [320, 1024]),
            ("cond_stage_model.model.token_embedding.weight", [49408, 1024]),
            ("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", [3072, 1024]),
        ])
        #expect(few.layout == .ldm)
        #expect(few.architecture == .sd2, "evidence: \(few.evidence)")
        #expect(Self.counts(few) == [.unet: 2, .openCLIP: 2])
        // And SD1's 768-wide counterpart.
        let sd1Few = try Self.adapter(store, "sd1-few", [
            ("model.diffusion_model.input_blocks.0.0.weight", [320, 4, 3, 3]),
            ("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", [320, 768]),
            ("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", [49408, 768]),
        ])
        #expect(sd1Few.architecture == .sd1, "evidence: \(sd1Few.evidence)")
    }

    // MARK: - Adapters and other families

    /// A small file with these names, every tensor [4, width] F16 except alphas.
    static func adapter(_ store: SparseCheckpoints, _ name: String, _ keys: [(String, [Int])]) throws -> CheckpointIdentity {
        let path = store.root.appendingPathComponent(name + ".safetensors").path
        try SafetensorsWriter.writeSparse(keys.map { ($0.0, DType.f16, $0.1) }, to: path)
        return try Checkpoint.open(path).identify()
    }

    @Test("LoRA kinds and their base family")
    func adapters() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let kohyaXL = try Self.adapter(store, "kohya-sdxl", [
            ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight", [4, 2048]),
            ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight", [640, 4]),
            ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.alpha", []),
            ("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", [4, 768]),
            ("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", [4, 1280]),
        ])
        #expect(kohyaXL.layout == .loraKohya)
        #expect(kohyaXL.architecture == .sdxlBase)
        #expect(Self.counts(kohyaXL) == [.unet: 3, .clipL: 1, .openCLIP: 1])

        // No cross-attention to_k to read a context width from: the second text encoder tells SDXL.
        let kohyaQ = try Self.adapter(store, "kohya-sdxl-q", [
            ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight", [4, 640]),
            ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_up.weight", [640, 4]),
            ("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [4, 1280]),
        ])
        #expect(kohyaQ.layout == .loraKohya)
        #expect(kohyaQ.architecture == .sdxlBase, "\(kohyaQ.evidence)")
        #expect(Self.counts(kohyaQ) == [.unet: 2, .openCLIP: 1])

        let kohya1 = try Self.adapter(store, "kohya-sd1", [
            ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", [4, 768]),
            ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [4, 768]),
        ])
        #expect(kohya1.layout == .loraKohya)
        #expect(kohya1.architecture == .sd1)

        let loha = try Self.adapter(store, "loha", [
            ("lora_unet_down_blocks_0_attentions_0_proj_in.hada_w1_a", [320, 4]),
            ("lora_unet_down_blocks_0_attentions_0_proj_in.hada_w1_b", [4, 320]),
        ])
        #expect(loha.layout == .loraLyCORIS)

        let peft = try Self.adapter(store, "peft", [
            ("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight", [4, 640]),
            ("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight", [640, 4]),
            ("text_encoder_2.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight", [4, 1280]),
        ])
        #expect(peft.layout == .loraPEFT)
        #expect(peft.architecture == .sdxlBase)
        #expect(Self.counts(peft) == [.unet: 2, .openCLIP: 1])
    }

    @Test("transformer families and Stable Cascade by their blocks", arguments: [
        (["model.diffusion_model.double_blocks.0.img_attn.norm.key_norm.scale": [128],
          "model.diffusion_model.single_blocks.0.linear1.weight": [21504, 3072], "vae.decoder.conv_in.weight": [512, 16, 3, 3],
          "text_encoders.clip_l.transformer.text_model.embeddings.token_embedding.weight": [49408, 768],
          "text_encoders.t5xxl.transformer.shared.weight": [32128, 4096]],
         Architecture.flux, Layout.comfy, [Component.unet: 2, .vae: 1, .clipL: 1, .other: 1]),
        (["model.diffusion_model.joint_blocks.0.context_block.adaLN_modulation.1.bias": [9216],
          "first_stage_model.decoder.conv_in.weight": [512, 16, 3, 3],
          "text_encoders.clip_g.transformer.text_model.embeddings.token_embedding.weight": [49408, 1280]],
         .sd3, .comfy, [.unet: 1, .vae: 1, .openCLIP: 1]),
        (["clf.1.weight": [16, 2048, 1, 1], "clip_txt_mapper.weight": [8192, 1280], "down_blocks.0.0.channelwise.0.weight": [8192, 2048]],
         .stableCascadeC, .diffusers, [.unet: 3]),
        (["clf.1.weight": [16, 1280, 1, 1], "clip_mapper.weight": [5120, 1280], "down_blocks.1.0.channelwise.0.weight": [2560, 640]],
         .stableCascadeB, .diffusers, [.unet: 3]),
    ])
    func transformerFamilies(keys: [String: [Int]], architecture: Architecture, layout: Layout, expected: [Component: Int]) throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let identity = try Self.adapter(store, architecture.rawValue, keys.map { ($0.key, $0.value) })
        #expect(identity.architecture == architecture, "\(identity.evidence)")
        #expect(identity.layout == layout)
        #expect(Self.counts(identity) == expected)
    }

    @Test("the full SDXL header identifies in well under a second, even in a debug build")
    func fullSizeSpeed() throws {
        let store = try SparseCheckpoints("ckdiff-detection")
        defer { store.remove() }
        let checkpoint = try store.file("sdxl-sgm", try Listing("sd-mecha/sdxl-sgm.json"))
        // Scripts/bench-inspect measures the release build; this only catches a gross regression.
        let clock = ContinuousClock()
        let once = clock.measure { _ = checkpoint.identify() }
        #expect(once < .seconds(1), "identify took \(once)")
    }
}
