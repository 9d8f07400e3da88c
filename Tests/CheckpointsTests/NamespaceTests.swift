import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import Checkpoints

/// The one key-namespace table: detection, alignment and mapping tables read the same prefixes.
@Suite("Key namespaces")
struct KeyNamespaceTests {
    /// A key under a table entry: the prefix as a file spells it (slot filled in) and a leaf after it.
    func key(under entry: ComponentPrefix, slot: Int, leaf: String = "x.weight") -> String {
        entry.spelled(slot: entry.slot ?? slot) + entry.under + leaf
    }

    /// A top-level tensor of one F32 element named `key`.
    func tensor(_ key: String) -> Checkpoint.Tensor {
        Checkpoint.Tensor(name: key, key: key, folder: nil, fileIndex: 0,
                          info: TensorInfo(name: key, dtype: .f32, shape: [1], elementCount: 1, fileOffset: 0, byteCount: 4))
    }

    @Test("every family's prefix classifies and resolves as its namespace says")
    func familiesAgreeWithDetectionAndAlignment() throws {
        var checked = 0
        for architecture in KeyNamespaces.all {
            for namespace in architecture.namespaces {
                for (slot, entry) in namespace.components.enumerated() where !entry.isFolder {
                    let name = key(under: entry, slot: slot)
                    let found = try #require(ComponentClassifier.namespace(of: name), "\(name)")
                    // A text encoder whose families disagree is CLIP-L until its width says otherwise.
                    #expect(found.component == entry.component || (entry.part == .textEncoder && found.component == .clipL),
                            "\(architecture.family) \(namespace.layout) \(name): \(found.component)")
                    let tensor = tensor(name)
                    guard case .prefixed(_, let kind) = SchemeResolver.group(of: tensor) else {
                        Issue.record("\(name) is not under a prefix the aligner maps")
                        continue
                    }
                    switch (entry.part, kind) {
                    case (.denoiser, .unet), (.vae, .vae): break
                    case (.textEncoder, .clip(let folder)), (.textEncoder, .openCLIP(let folder)):
                        #expect(folder == nil || folder == entry.folder, "\(name): \(String(describing: folder))")
                        let isOpenCLIP: Bool
                        if case .openCLIP = kind { isOpenCLIP = true } else { isOpenCLIP = false }
                        #expect(isOpenCLIP == (entry.naming == .original && entry.component == .openCLIP), "\(name)")
                    default:
                        Issue.record("\(name): \(entry.part) resolves as \(kind)")
                    }
                    checked += 1
                }
            }
        }
        // The single-file entries of SD1, SD2, SDXL base and refiner in LDM, SGM and kohya layouts.
        #expect(checked >= 39)
    }

    /// Keys and the component and aligner group the three tables gave them before they became one.
    static let former: [(key: String, component: Component, group: SchemeResolver.Group)] = [
        ("model.diffusion_model.input_blocks.0.0.weight", .unet, .prefixed("model.diffusion_model.", .unet)),
        ("model_ema.diffusion_modelinput_blocks00weight", .ema, .prefixed("model_ema.", .ema)),
        ("first_stage_model.encoder.conv_in.weight", .vae, .prefixed("first_stage_model.", .vae)),
        ("cond_stage_model.transformer.text_model.final_layer_norm.weight", .clipL,
         .prefixed("cond_stage_model.transformer.", .clip(folder: "text_encoder"))),
        ("cond_stage_model.model.ln_final.weight", .openCLIP, .prefixed("cond_stage_model.model.", .openCLIP(folder: "text_encoder"))),
        ("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", .clipL,
         .prefixed("conditioner.embedders.0.transformer.", .clip(folder: "text_encoder"))),
        ("conditioner.embedders.0.model.ln_final.weight", .openCLIP, .prefixed("conditioner.embedders.0.model.", .openCLIP(folder: nil))),
        ("conditioner.embedders.1.model.ln_final.weight", .openCLIP,
         .prefixed("conditioner.embedders.1.model.", .openCLIP(folder: "text_encoder_2"))),
        ("conditioner.embedders.1.transformer.text_model.final_layer_norm.weight", .clipL,
         .prefixed("conditioner.embedders.1.transformer.", .clip(folder: "text_encoder_2"))),
        ("conditioner.embedders.2.model.ln_final.weight", .openCLIP,
         .prefixed("conditioner.embedders.2.model.", .openCLIP(folder: "text_encoder_2"))),
        ("conditioner.embedders.3.embedder.weight", .other, .bare),
        ("conditioner.embedders.x.model.weight", .other, .bare),
        ("unet.conv_in.weight", .unet, .prefixed("unet.", .unet)),
        ("vae.encoder.conv_in.weight", .vae, .prefixed("vae.", .vae)),
        ("te.text_model.final_layer_norm.weight", .clipL, .prefixed("te.", .clip(folder: "text_encoder"))),
        ("te1.text_model.final_layer_norm.weight", .clipL, .prefixed("te1.", .clip(folder: "text_encoder"))),
        ("te2.text_model.final_layer_norm.weight", .openCLIP, .prefixed("te2.", .clip(folder: "text_encoder_2"))),
        ("text_encoders.clip_l.transformer.text_model.final_layer_norm.weight", .clipL,
         .prefixed("text_encoders.clip_l.transformer.", .clip(folder: "text_encoder"))),
        ("text_encoders.clip_g.transformer.text_model.final_layer_norm.weight", .openCLIP,
         .prefixed("text_encoders.clip_g.transformer.", .clip(folder: "text_encoder_2"))),
        ("text_encoders.clip_l.logit_scale", .clipL, .bare),
        ("text_encoders.t5xxl.transformer.shared.weight", .other, .bare),
        ("input_blocks.0.0.weight", .other, .bare),
    ]

    @Test("the merged table gives every key the component and aligner group the three tables gave it")
    func formerTablesPreserved() {
        for (key, component, group) in Self.former {
            let tensor = tensor(key)
            #expect((ComponentClassifier.namespace(of: key)?.component ?? .other) == component, "\(key)")
            #expect(SchemeResolver.group(of: tensor) == group, "\(key)")
        }
    }

    @Test("diffusers folders: the table's folders, EMA folders by suffix, unmapped denoiser folders")
    func folders() {
        #expect(SchemeResolver.namespace(ofFolder: "unet") == .unet)
        #expect(SchemeResolver.namespace(ofFolder: "unet_ema") == .ema)
        #expect(SchemeResolver.namespace(ofFolder: "vae") == .vae)
        #expect(SchemeResolver.namespace(ofFolder: "text_encoder") == .clip(folder: "text_encoder"))
        #expect(SchemeResolver.namespace(ofFolder: "text_encoder_2") == .clip(folder: "text_encoder_2"))
        // Folders the aligner does not map: a transformer denoiser, its EMA, a third encoder.
        for folder in ["transformer", "transformer_ema", "text_encoder_3", "scheduler"] {
            #expect(SchemeResolver.namespace(ofFolder: folder) == nil, "\(folder)")
        }
        #expect(NamespaceIndex.shared.folders["transformer"]?.component == .unet)
        #expect(NamespaceIndex.shared.isEMAFolder("transformer_ema"))
    }

    @Test("the standard structures and layout-only keys come from the registry")
    func registryFeedsStructuresAndSpecialKeys() {
        for family in ModelFamily.allCases {
            #expect(ModelStructure.standard(family) == KeyNamespaces.architecture(family).structure)
            // Every family is written in the four mapped layouts.
            #expect(Set(KeyNamespaces.architecture(family).namespaces.map(\.layout)) == [.diffusers, .ldm, .sgm, .kohyaFlattened])
        }
        #expect(SpecialKeys.scheduleBuffers.count == 12 && SpecialKeys.scheduleBuffers.contains("alphas_cumprod"))
        #expect(SpecialKeys.markers.contains("v_pred") && !SpecialKeys.markers.contains("alphas_cumprod"))
        #expect(SpecialKeys.isLayoutOnly("cond_stage_model.transformer.text_model.embeddings.position_ids"))
        #expect(EMAKey.flat("input_blocks.1.1.proj_in.weight") == "model_ema.diffusion_modelinput_blocks11proj_inweight")
    }

    @Test("slot prefixes: # matches a number, a bound slot only its own")
    func slotMatching() {
        let any = ComponentPrefix.textEncoder("conditioner.embedders.#.model.", .openCLIP, .original, folder: nil)
        let first = ComponentPrefix.textEncoder("conditioner.embedders.#.model.", slot: 0, .openCLIP, .original, folder: nil)
        #expect(any.match("conditioner.embedders.12.model.ln_final.weight") == "conditioner.embedders.12.model.")
        #expect(any.match("conditioner.embedders..model.ln_final.weight") == nil)
        #expect(any.match("conditioner.embedders.1.transformer.x") == nil)
        #expect(first.match("conditioner.embedders.0.model.x") == "conditioner.embedders.0.model.")
        #expect(first.match("conditioner.embedders.1.model.x") == nil)
        #expect(first.spelled(slot: 0) == "conditioner.embedders.0.model.")
    }

    @Test("layout names: the mapped layouts by their names; KeyLayout's kohya is Layout's kohyaFlattened")
    func layoutNames() {
        #expect(Layout(name: "kohya") == .kohyaFlattened && Layout.kohya == .kohyaFlattened)
        #expect(Layout(name: "ComfyUI") == .sgm && Layout(name: "original") == .ldm)
        #expect(Layout(name: "lora_kohya") == nil && Layout(name: "unknown") == nil)
        #expect(Layout.kohyaFlattened.rawValue == "kohya_flattened")
        // A layout no family is written in holds no keys of a mapping table.
        #expect(MappingTable.make(family: .sd1, from: .comfy, to: .diffusers).rows.allSatisfy { $0.source == nil })
    }
}
