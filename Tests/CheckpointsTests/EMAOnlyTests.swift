import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import Checkpoints

/// A single file with an EMA copy of its UNet (`model_ema.*`) and a VAE but no live UNet: detection,
/// the scheme and `--ema` agree that the EMA copy is there, and `--ema a` compares it where the UNet would be.
@Suite("EMA copy without a live UNet")
struct EMAOnlyTests {
    /// The EMA name LitEma gives an LDM UNet key (checkpoint-formats §9), written out independently.
    func litEMAName(_ ldmKey: String) -> String {
        "model_ema." + ldmKey.split(separator: ".").dropFirst().joined()
    }

    /// A tensor's name.
    func name<Side>(_ checkpoint: Checkpoint, _ ref: TensorRef<Side>) -> String { checkpoint.tensors[ref.tensor].name }

    /// The diffusers UNet and VAE of a model as a folder.
    func diffusers(_ store: SparseCheckpoints, _ model: String) throws -> Checkpoint {
        try store.folder(model, [("unet", try Listing("diffusers/\(model)_unet.json")),
                                 ("vae", try Listing("diffusers/\(model)_vae.json"))])
    }

    /// The listing's UNet (sd-mecha's `diffuser` keys under `model.diffusion_model.`, not the markers it
    /// files with them) renamed to LitEma's EMA names (with the two scalars) and its VAE, nothing else.
    func emaAndVAE(_ listing: Listing) -> Listing {
        var entries: [Listing.Entry] = []
        for entry in listing.entries {
            switch entry.component {
            case "diffuser" where entry.name.hasPrefix("model.diffusion_model."):
                var ema = entry
                ema.name = litEMAName(entry.name)
                ema.component = "ema"
                entries.append(ema)
            case "vae":
                entries.append(entry)
            default:
                break
            }
        }
        entries.append(Listing.Entry(name: "model_ema.decay", dtype: .f32, shape: [], component: "ema", optional: false, aliases: []))
        entries.append(Listing.Entry(name: "model_ema.num_updates", dtype: .i32, shape: [], component: "ema", optional: false, aliases: []))
        return Listing(entries: entries)
    }

    /// Checks the EMA-only file built from `listing` against the diffusers `model` and the live file.
    func check(_ listingName: String, model: String, unetTensors: Int) throws {
        let store = try SparseCheckpoints("ckdiff-ema-only")
        defer { store.remove() }
        let full = try Listing(listingName)
        let live = try store.file("live", full.filter { $0.component == "diffuser" || $0.component == "vae" })
        let emaOnly = try store.file("ema-only", emaAndVAE(full))
        let folder = try diffusers(store, model)

        // Detection and alignment give the same answer: an EMA copy is present.
        let identity = emaOnly.identify()
        #expect(identity.ema.status == .present && identity.ema.tensors == unetTensors)
        #expect(identity.components.filter { $0 == .unet }.isEmpty)
        let scheme = KeyScheme(emaOnly)
        #expect(scheme.hasEMA)
        #expect(scheme.targets.joined().filter { $0.canonical.hasPrefix("unet_ema/") }.count == unetTensors)

        // --ema a: every EMA tensor pairs where the live UNet's tensor of the same name pairs.
        let plan = try Alignment.aligning(emaOnly, folder, ema: .a)
        let liveByB = Dictionary(uniqueKeysWithValues: Alignment.aligning(live, folder).pairs
            .filter { $0.component == .unet }.map { ($0.b.tensor, name(live, $0.a)) })
        #expect(liveByB.count == unetTensors)
        let unetPairs = plan.pairs.filter { $0.component == .unet }
        #expect(unetPairs.count == unetTensors)
        for pair in unetPairs {
            let liveName = try #require(liveByB[pair.b.tensor])
            #expect(name(emaOnly, pair.a) == litEMAName(liveName))
        }
        #expect(plan.pairs.filter { $0.component == .vae }.count == 248)
        #expect(plan.misalignedPairs(emaOnly, folder).isEmpty)
        #expect(Set(plan.onlyInA.map { emaOnly.tensors[$0.tensor].name }) == ["model_ema.decay", "model_ema.num_updates"])
        #expect(plan.onlyInB.isEmpty)

        // Without --ema the copy is an EMA leftover, not an unknown key or a gap.
        let plain = Alignment.aligning(emaOnly, folder)
        #expect(plain.onlyInA.count == unetTensors + 2 && plain.onlyInA.allSatisfy { $0.kind == .ema && $0.component == .ema })
        #expect(plain.onlyInB.count == unetTensors && plain.onlyInB.allSatisfy { $0.component == .unet })
    }

    @Test("SD1: model_ema.* and a VAE")
    func sd1() throws {
        try check("sd-mecha/sd1-ldm.json", model: "sd15", unetTensors: 686)
    }

    @Test("SDXL: model_ema.* and a VAE (ten transformer blocks: dot-stripped numbers that run together)")
    func sdxl() throws {
        try check("sd-mecha/sdxl-sgm.json", model: "sdxl", unetTensors: 1680)
    }

    @Test("EMA names without diffusion_model resolve too; a file with neither UNet nor EMA is still refused")
    func aliasAndRefusal() throws {
        let store = try SparseCheckpoints("ckdiff-ema-only")
        defer { store.remove() }
        var listing = emaAndVAE(try Listing("sd-mecha/sd1-ldm.json"))
        listing.entries = listing.entries.map { entry in
            var entry = entry
            if entry.name.hasPrefix("model_ema.diffusion_model") {
                entry.name = "model_ema." + entry.name.dropFirst("model_ema.diffusion_model".count)
            }
            return entry
        }
        let alias = try store.file("ema-alias", listing)
        let folder = try diffusers(store, "sd15")
        #expect(KeyScheme(alias).hasEMA)
        let plan = try Alignment.aligning(alias, folder, ema: .a)
        #expect(plan.pairs.filter { $0.component == .unet }.count == 686)

        let vaeOnly = try store.file("vae-only", try Listing("sd-mecha/sd1-ldm.json").filter { $0.component == "vae" })
        #expect(vaeOnly.identify().ema.status == .absent && !KeyScheme(vaeOnly).hasEMA)
        #expect(throws: CheckpointError.self) { try Alignment.aligning(vaeOnly, folder, ema: .a) }
    }
}
