import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// The `ema_match` verdict and the `ema_weights` finding through the command line.
///
/// Built from diffusers' own SD1.5 conversion with an EMA copy written by ``EMACLITests``'s
/// helpers (LitEma's key naming, written independently of ckdiff): A holds live weights and a
/// drifted EMA copy (every value x ↦ 0.99·x + 0.001); B is an export made from one or the other.
@Suite("EMA match: a UNet that holds the other side's EMA (or live) weights")
struct EMAMatchCLITests {
    private let base = EMACLITests()

    /// A writes with its EMA copy, B the export whose UNet holds `unetValues` (EMA or live), no EMA keys.
    private struct Files {
        var withEMA: String
        var fromEMA: String
        var fromLive: String
        /// The LDM UNet key → its EMA key.
        var emaKeyOf: [String: String]
        var unetParameters: Int
    }

    private func files(_ name: String, exportDType: DType = .f32) throws -> Files {
        let directory = try Fixtures.temporaryDirectory(name)
        let withEMA = directory.appendingPathComponent("with-ema.safetensors").path
        let fromEMA = directory.appendingPathComponent("from-ema.safetensors").path
        let fromLive = directory.appendingPathComponent("from-live.safetensors").path
        let full = try base.ldmWithEMA(driftEMA: true)
        try SafetensorsWriter.write(full, to: withEMA)
        let emaByKey = Dictionary(uniqueKeysWithValues: full.filter { $0.name.hasPrefix("model_ema.diffusion_model") }.map { ($0.name, $0) })
        let live = try base.entries(EMACLITests.ldm)
        var emaKeyOf: [String: String] = [:]
        var parameters = 0
        try SafetensorsWriter.write(try live.map { entry in
            guard entry.name.hasPrefix(EMACLITests.unetPrefix) else { return entry }
            let key = base.emaKey(entry.name)
            let ema = try #require(emaByKey[key], "no EMA copy of \(entry.name)")
            emaKeyOf[entry.name] = key
            parameters += entry.shape.reduce(1, *)
            return exportDType == .f16 ? .f16(entry.name, entry.shape, floats(ema.bytes))
                : SafetensorsWriter.Entry(name: entry.name, dtype: ema.dtype, shape: ema.shape, bytes: ema.bytes)
        }, to: fromEMA)
        try SafetensorsWriter.write(live, to: fromLive)
        return Files(withEMA: withEMA, fromEMA: fromEMA, fromLive: fromLive, emaKeyOf: emaKeyOf, unetParameters: parameters)
    }

    /// F32 little-endian bytes as values.
    private func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, report: [String: Any]) {
        let outcome = try CLIRunner.run(arguments + ["--json", "-"])
        return (outcome.status, try base.json(outcome))
    }

    private func tensors(_ report: [String: Any]) throws -> [[String: Any]] {
        try #require(report["tensors"] as? [[String: Any]])
    }

    private func findings(_ report: [String: Any]) throws -> [[String: Any]] {
        try #require(report["findings"] as? [[String: Any]])
    }

    @Test("B's UNet made from A's EMA copy: ema_match on every UNet pair naming the EMA tensor, ema_weights the top finding, exit 1")
    func bHoldsAsEMA() throws {
        let f = try files("ckdiff-emamatch-b")
        let (status, report) = try run([f.withEMA, f.fromEMA])
        #expect(status == 1)
        let unet = try tensors(report).filter { $0["component"] as? String == "unet" }
        #expect(unet.count == f.emaKeyOf.count)
        for t in unet {
            let name = try #require(t["a_name"] as? String)
            let key = try #require(f.emaKeyOf[name])
            #expect(t["verdict"] as? String == "ema_match", "\(name)")
            #expect(t["holds"] as? String == key)
            let evidence = try #require(t["evidence"] as? String)
            #expect(evidence.contains("B holds A's EMA copy \(key) (identical)"), "\(evidence)")
            #expect(evidence.contains("against A's live weight: rel_l2 ") && evidence.contains("--ema a"), "\(evidence)")
        }
        // The rest of the model is the same file: identical.
        #expect(try tensors(report).filter { $0["component"] as? String != "unet" }.allSatisfy { $0["verdict"] as? String == "identical" })
        let summary = try #require(report["summary"] as? [String: Any])
        #expect((summary["verdicts"] as? [String: Any])?["ema_match"] as? Int == f.emaKeyOf.count)

        let all = try findings(report)
        let top = try #require(all.first)
        #expect(top["kind"] as? String == "ema_weights" && top["severity"] as? String == "warning")
        #expect(top["parameters"] as? Int == f.unetParameters)
        #expect(Set(top["tensors"] as? [String] ?? []) == Set(unet.compactMap { $0["name"] as? String }))
        let message = try #require(top["message"] as? String)
        #expect(message.hasPrefix("B's UNet holds A's EMA weights, not its live weights (\(f.emaKeyOf.count) tensors, \(f.unetParameters) parameters)"))
        #expect(message.contains("--ema a"))
        // No UNet pair counted twice: no drifted (or other per-verdict) finding.
        #expect(all.filter { $0["kind"] as? String == "ema_weights" }.count == 1)
        #expect(Set(all.compactMap { $0["kind"] as? String }) == ["ema_weights", "ema_only_in_a"])

        let terminal = try CLIRunner.run([f.withEMA, f.fromEMA])
        #expect(terminal.status == 1)
        #expect(terminal.stdout.contains("B's UNet holds A's EMA weights"))

        // --ema a compares the matching copies: identical pairs, no ema_match, no finding for them, exit 0.
        let (selectedStatus, selected) = try run([f.withEMA, f.fromEMA, "--ema", "a"])
        #expect(selectedStatus == 0)
        #expect(try tensors(selected).allSatisfy { $0["verdict"] as? String == "identical" })
        #expect(try findings(selected).allSatisfy { $0["kind"] as? String != "ema_weights" })
    }

    @Test("B made from A's live weights: no ema_match; the missing EMA copy is the only difference; under --ema a every UNet pair is ema_match the other way")
    func bHoldsAsLive() throws {
        let f = try files("ckdiff-emamatch-live")
        let (status, report) = try run([f.withEMA, f.fromLive])
        #expect(try tensors(report).allSatisfy { $0["verdict"] as? String == "identical" })
        #expect(try findings(report).compactMap { $0["kind"] as? String } == ["ema_only_in_a"])
        // Exit 1 comes from the EMA copy B lacks alone (a missing EMA copy is a difference by default).
        #expect(status == 1)
        let ema = try #require(report["ema"] as? [String: Any])
        #expect((ema["missing_in_b"] as? [String: Any])?["tensors"] as? Int == f.emaKeyOf.count)

        // --ema a compares A's EMA copy, but B holds A's live weights: ema_match naming the live tensor.
        let (selectedStatus, selected) = try run([f.withEMA, f.fromLive, "--ema", "a"])
        #expect(selectedStatus == 1)
        let unet = try tensors(selected).filter { $0["component"] as? String == "unet" }
        #expect(unet.count == f.emaKeyOf.count)
        for t in unet {
            let evidence = try #require(t["evidence"] as? String)
            #expect(t["verdict"] as? String == "ema_match")
            let live = try #require(f.emaKeyOf.first { $0.value == t["a_name"] as? String }?.key, "\(t["a_name"] ?? "")")
            #expect(t["holds"] as? String == live)
            #expect(evidence.contains("B holds A's live weight \(live) (identical); against A's EMA copy: rel_l2 "), "\(evidence)")
            #expect(evidence.contains("without --ema a"), "\(evidence)")
        }
        let top = try #require(try findings(selected).first)
        #expect(top["kind"] as? String == "ema_weights")
        #expect((top["message"] as? String)?.hasPrefix("B's UNet holds A's live weights, not the EMA copy --ema a compares") == true)
    }

    @Test("the reverse: B holds the EMA copy and A's UNet equals it; --ema b makes the pairs identical")
    func aHoldsBsEMA() throws {
        let f = try files("ckdiff-emamatch-reverse")
        let (status, report) = try run([f.fromEMA, f.withEMA])
        #expect(status == 1)
        let unet = try tensors(report).filter { $0["component"] as? String == "unet" }
        #expect(unet.count == f.emaKeyOf.count)
        for t in unet {
            let name = try #require(t["b_name"] as? String)
            let key = try #require(f.emaKeyOf[name])
            #expect(t["verdict"] as? String == "ema_match")
            let evidence = try #require(t["evidence"] as? String)
            #expect(evidence.contains("A holds B's EMA copy \(key) (identical); against B's live weight: rel_l2 "), "\(evidence)")
            #expect(evidence.contains("--ema b compares the matching copies"), "\(evidence)")
        }
        let top = try #require(try findings(report).first)
        #expect(top["kind"] as? String == "ema_weights" && top["parameters"] as? Int == f.unetParameters)
        #expect((top["message"] as? String)?.hasPrefix("A's UNet holds B's EMA weights, not B's live weights") == true)

        let (selectedStatus, selected) = try run([f.fromEMA, f.withEMA, "--ema", "b"])
        #expect(selectedStatus == 0)
        #expect(try tensors(selected).allSatisfy { $0["verdict"] as? String == "identical" })
    }

    @Test("an F16 export of A's EMA copy: ema_match by exact cast, not a component cast")
    func f16ExportOfEMA() throws {
        let f = try files("ckdiff-emamatch-f16", exportDType: .f16)
        let (status, report) = try run([f.withEMA, f.fromEMA])
        #expect(status == 1)
        let unet = try tensors(report).filter { $0["component"] as? String == "unet" }
        #expect(!unet.isEmpty)
        for t in unet {
            #expect(t["verdict"] as? String == "ema_match")
            #expect((t["evidence"] as? String)?.contains("(exact_cast)") == true, "\(t["evidence"] ?? "")")
        }
        let kinds = try findings(report).compactMap { $0["kind"] as? String }
        #expect(kinds.first == "ema_weights" && !kinds.contains("component_cast") && !kinds.contains("drifted"))
    }

    @Test("one UNet tensor changed after the EMA export: drifted on its own, ema_match on the others, no double count")
    func partlyEMA() throws {
        let f = try files("ckdiff-emamatch-partly")
        let changed = "model.diffusion_model.out.2.weight"
        let directory = try Fixtures.temporaryDirectory("ckdiff-emamatch-partly-b")
        let b = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write(try base.entries(f.fromEMA).map { entry in
            guard entry.name == changed else { return entry }
            var entry = entry
            entry.bytes = base.mapped(entry.bytes) { $0 * 0.9 + 0.01 }
            return entry
        }, to: b)
        let (status, report) = try run([f.withEMA, b])
        #expect(status == 1)
        let unet = try tensors(report).filter { $0["component"] as? String == "unet" }
        let changedPair = try #require(unet.first { $0["a_name"] as? String == changed })
        #expect(changedPair["verdict"] as? String != "ema_match")
        let others = unet.filter { $0["a_name"] as? String != changed }
        #expect(others.allSatisfy { $0["verdict"] as? String == "ema_match" })
        let all = try findings(report)
        let ema = try #require(all.first { $0["kind"] as? String == "ema_weights" })
        let emaTensors = Set(ema["tensors"] as? [String] ?? [])
        #expect(emaTensors == Set(others.compactMap { $0["name"] as? String }))
        #expect((ema["message"] as? String)?.contains("\(others.count) of \(unet.count) UNet tensors") == true)
        // The changed tensor lands in exactly one other finding.
        let name = try #require(changedPair["name"] as? String)
        let holding = all.filter { ($0["tensors"] as? [String] ?? []).contains(name) }
        #expect(holding.count == 1 && holding.first?["kind"] as? String != "ema_weights")
    }
}
