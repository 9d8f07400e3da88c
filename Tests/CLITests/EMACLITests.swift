import CKDiffJSON
import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// EMA through the command line, on faults made from diffusers' own SD1.5 conversion.
///
/// The LDM training checkpoint is built from the real fp32 conversion: every UNet key
/// `model.diffusion_model.K` gets a copy `model_ema.diffusion_model` + K without dots (LitEma's
/// naming, written out here independently of ckdiff), plus `model_ema.decay` (F32) and
/// `model_ema.num_updates` (I32), as `ldm/modules/ema.py` saves them.
@Suite("EMA: missing, EMA against EMA, --ema, live or EMA")
struct EMACLITests {
    static let ldm = Fixtures.path("reference/single_file/sd15_tiny_ldm_fp32.safetensors")
    static let folder = Fixtures.path("reference/sd15_tiny_diffusers")
    static let schema = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/ckdiff-report.schema.json").path
    static let unetPrefix = "model.diffusion_model."

    /// The tensors of a file with their bytes.
    func entries(_ path: String) throws -> [SafetensorsWriter.Entry] {
        let header = try SafetensorsFile.open(path)
        let file = try ReadOnlyFile(path: path)
        return try header.tensors.map { info in
            SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape,
                                    bytes: try file.readBytes(count: info.byteCount, at: info.fileOffset))
        }
    }

    /// LitEma's key for an LDM UNet key.
    func emaKey(_ unetKey: String) -> String {
        "model_ema." + unetKey.split(separator: ".").dropFirst().joined()
    }

    /// F32 bytes with every value mapped through `f` (an EMA that drifted from the live weights).
    func mapped(_ bytes: [UInt8], _ f: (Float) -> Float) -> [UInt8] {
        var out = bytes
        for i in stride(from: 0, to: bytes.count, by: 4) {
            let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            let value = f(Float(bitPattern: bits)).bitPattern
            for k in 0..<4 { out[i + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
        }
        return out
    }

    /// The drifted EMA values used by these tests.
    func drift(_ x: Float) -> Float { x * 0.99 + 0.001 }

    /// The SD1.5 conversion with an EMA copy: `driftEMA` decides whether the copy equals the live UNet.
    func ldmWithEMA(driftEMA: Bool) throws -> [SafetensorsWriter.Entry] {
        let live = try entries(Self.ldm)
        var all = live
        for entry in live where entry.name.hasPrefix(Self.unetPrefix) {
            #expect(entry.dtype == .f32)
            all.append(SafetensorsWriter.Entry(name: emaKey(entry.name), dtype: .f32, shape: entry.shape,
                                               bytes: driftEMA ? mapped(entry.bytes, drift) : entry.bytes))
        }
        all.append(.f32("model_ema.decay", [], [0.9999]))
        all.append(SafetensorsWriter.Entry(name: "model_ema.num_updates", dtype: .i32, shape: [],
                                           bytes: withUnsafeBytes(of: Int32(1234).littleEndian, Array.init)))
        return all
    }

    /// Writes into `directory` A, the conversion with a drifted EMA copy, and B, the export whose UNet
    /// holds those EMA values and no EMA keys (what a trainer exports); returns both paths.
    func writeWithEMAAndExport(in directory: URL) throws -> (withEMA: String, fromEMA: String) {
        let a = directory.appendingPathComponent("with-ema.safetensors").path
        let fromEMA = directory.appendingPathComponent("from-ema.safetensors").path
        let full = try ldmWithEMA(driftEMA: true)
        try SafetensorsWriter.write(full, to: a)
        let emaByKey = Dictionary(uniqueKeysWithValues: full.filter { $0.name.hasPrefix("model_ema.diffusion_model") }.map { ($0.name, $0) })
        try SafetensorsWriter.write(try entries(Self.ldm).map { entry in
            guard entry.name.hasPrefix(Self.unetPrefix), let ema = emaByKey[emaKey(entry.name)] else { return entry }
            var entry = entry
            entry.bytes = ema.bytes
            return entry
        }, to: fromEMA)
        return (a, fromEMA)
    }

    func json(_ outcome: CLIRunner.Outcome) throws -> [String: Any] {
        #expect(try JSONSchemaValidator(schemaPath: Self.schema).violations(of: outcome.stdoutData).isEmpty)
        return try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
    }

    /// The UNet keys of the real conversion and their element count.
    func unetKeys() throws -> (keys: Set<String>, parameters: Int) {
        let unet = try SafetensorsFile.open(Self.ldm).tensors.filter { $0.name.hasPrefix(Self.unetPrefix) }
        return (Set(unet.map(\.name)), unet.reduce(0) { $0 + $1.elementCount })
    }

    @Test("a dropped EMA copy: exit 1, every EMA key reported missing in B, on the single file and the diffusers folder")
    func droppedEMA() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("with-ema.safetensors").path
        let b = directory.appendingPathComponent("ema-dropped.safetensors").path
        let full = try ldmWithEMA(driftEMA: true)
        try SafetensorsWriter.write(full, to: a)
        try SafetensorsWriter.write(full.filter { !$0.name.hasPrefix("model_ema.") }, to: b)
        let (unet, parameters) = try unetKeys()
        let expected = Set(unet.map(emaKey)).union(["model_ema.decay", "model_ema.num_updates"])

        for other in [b, Self.folder] {
            let outcome = try CLIRunner.run([a, other, "--json", "-"])
            #expect(outcome.status == 1)
            let report = try json(outcome)
            let onlyInA = try #require(report["only_in_a"] as? [[String: Any]])
            #expect(Set(onlyInA.compactMap { $0["name"] as? String }) == expected)
            #expect(onlyInA.allSatisfy { $0["class"] as? String == "ema" && $0["component"] as? String == "ema" })
            let summary = try #require(report["summary"] as? [String: Any])
            #expect(summary["tensors_out_of_tolerance"] as? Int == 0 && summary["only_in_a_weights"] as? Int == 0)
            let ema = try #require(report["ema"] as? [String: Any])
            let missing = try #require(ema["missing_in_b"] as? [String: Any])
            #expect(missing["tensors"] as? Int == unet.count && missing["parameters"] as? Int == parameters)
            #expect(missing["settings"] as? Int == 2)
            #expect((ema["a"] as? [String: Any])?["status"] as? String == "present")
            #expect((ema["b"] as? [String: Any])?["status"] as? String == "absent")
            let terminal = try CLIRunner.run([a, other])
            #expect(terminal.status == 1)
            #expect(terminal.stdout.contains("missing EMA: B lacks \(unet.count) of A's EMA tensors"))
        }
        // The other way round the EMA copy is missing in A.
        let back = try CLIRunner.run([b, a, "--json", "-"])
        #expect(back.status == 1)
        let missingInA = try #require((try json(back)["ema"] as? [String: Any])?["missing_in_a"] as? [String: Any])
        #expect(missingInA["tensors"] as? Int == unet.count)
        // Without EMA on either side nothing is missing: the conversion against itself is equivalent.
        #expect(try CLIRunner.run([b, Self.ldm]).status == 0)
    }

    @Test("EMA copies are compared with EMA copies, across layouts too, and a changed EMA tensor is named")
    func emaAgainstEMA() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("with-ema.safetensors").path
        let b = directory.appendingPathComponent("ema-changed.safetensors").path
        let full = try ldmWithEMA(driftEMA: false)
        try SafetensorsWriter.write(full, to: a)
        let changed = emaKey("model.diffusion_model.out.2.weight")
        try SafetensorsWriter.write(full.map { entry in
            guard entry.name == changed else { return entry }
            var entry = entry
            entry.bytes = mapped(entry.bytes, drift)
            return entry
        }, to: b)
        let (unet, _) = try unetKeys()

        let outcome = try CLIRunner.run([a, b, "--json", "-"])
        #expect(outcome.status == 1)
        let report = try json(outcome)
        let bad = try #require(report["tensors"] as? [[String: Any]]).filter { $0["verdict"] as? String != "identical" }
        #expect(bad.count == 1 && bad.first?["name"] as? String == changed && bad.first?["component"] as? String == "ema")
        let vs = try #require((report["ema"] as? [String: Any])?["ema_vs_ema"] as? [String: Any])
        #expect(vs["pairs"] as? Int == unet.count && vs["different"] as? Int == 1 && vs["identical"] as? Int == unet.count - 1)

        // A diffusers folder whose unet_ema/ holds the same weights: every EMA tensor pairs across layouts.
        let folder = directory.appendingPathComponent("pipeline")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.folder), to: folder)
        let emaFolder = folder.appendingPathComponent("unet_ema")
        try FileManager.default.copyItem(at: folder.appendingPathComponent("unet"), to: emaFolder)
        let cross = try CLIRunner.run([a, folder.path, "--json", "-"])
        #expect(cross.status == 0)
        let crossReport = try json(cross)
        let crossVs = try #require((crossReport["ema"] as? [String: Any])?["ema_vs_ema"] as? [String: Any])
        #expect(crossVs["pairs"] as? Int == unet.count && crossVs["identical"] as? Int == unet.count)
        // decay and num_updates live in unet_ema/config.json in diffusers: layout-only, not missing.
        let onlyInA = try #require(crossReport["only_in_a"] as? [[String: Any]])
        #expect(Set(onlyInA.filter { $0["component"] as? String == "ema" }.compactMap { $0["class"] as? String }) == ["layout_only"])
    }

    @Test("a partial EMA copy: status partial, the EMA tensors it lacks reported missing, exit 1")
    func partialEMA() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("with-ema.safetensors").path
        let b = directory.appendingPathComponent("partial-ema.safetensors").path
        let full = try ldmWithEMA(driftEMA: false)
        try SafetensorsWriter.write(full, to: a)
        let dropped = Set(full.map(\.name).filter { $0.hasPrefix("model_ema.diffusion_modeloutput_blocks") })
        #expect(!dropped.isEmpty)
        try SafetensorsWriter.write(full.filter { !dropped.contains($0.name) }, to: b)
        let outcome = try CLIRunner.run([a, b, "--json", "-"])
        #expect(outcome.status == 1)
        let report = try json(outcome)
        let ema = try #require(report["ema"] as? [String: Any])
        #expect((ema["b"] as? [String: Any])?["status"] as? String == "partial")
        #expect((ema["missing_in_b"] as? [String: Any])?["tensors"] as? Int == dropped.count)
        let onlyInA = try #require(report["only_in_a"] as? [[String: Any]])
        #expect(Set(onlyInA.compactMap { $0["name"] as? String }) == dropped)
        // Both sides hold an EMA copy: no live-or-EMA question.
        #expect(ema["live_or_ema"] == nil)
    }

    @Test("B made from A's EMA values: the answer is EMA; --ema a makes the UNet identical; --ema b is refused")
    func emaOrLiveAndSelection() throws {
        let (a, fromEMA) = try writeWithEMAAndExport(in: try Fixtures.temporaryDirectory())
        let (unet, parameters) = try unetKeys()

        // Default: the live UNets differ and the EMA copy is missing; the answer is A's EMA.
        let plain = try CLIRunner.run([a, fromEMA, "--json", "-"])
        #expect(plain.status == 1)
        let answer = try #require((try json(plain)["ema"] as? [String: Any])?["live_or_ema"] as? [String: Any])
        #expect(answer["tested_side"] as? String == "a" && answer["main_reads"] as? String == "live")
        #expect(answer["matches"] as? String == "ema" && answer["closer"] as? String == "ema")
        #expect(answer["tensors"] as? Int == unet.count)
        let emaTally = try #require(answer["ema"] as? [String: Any])
        let liveTally = try #require(answer["live"] as? [String: Any])
        #expect(emaTally["identical"] as? Int == unet.count && emaTally["parameters_closer"] as? Int == parameters)
        #expect(liveTally["tensors_closer"] as? Int == 0)
        let perTensor = try #require(answer["per_tensor"] as? [[String: Any]])
        #expect(perTensor.count == unet.count)
        #expect(perTensor.allSatisfy { ($0["ema_name"] as? String).map { $0.hasPrefix("model_ema.") } == true })
        let text = try CLIRunner.run([a, fromEMA])
        #expect(text.stdout.contains("B holds A's EMA weights"))

        // --ema a: A's EMA copy stands for its UNet: every pair identical, the live UNet set aside, exit 0.
        let selected = try CLIRunner.run([a, fromEMA, "--ema", "a", "--json", "-"])
        #expect(selected.status == 0)
        let report = try json(selected)
        let tensors = try #require(report["tensors"] as? [[String: Any]])
        #expect(tensors.allSatisfy { $0["verdict"] as? String == "identical" })
        let onlyInA = try #require(report["only_in_a"] as? [[String: Any]])
        #expect(Set(onlyInA.compactMap { $0["name"] as? String }) == unet.union(["model_ema.decay", "model_ema.num_updates"]))
        #expect(onlyInA.allSatisfy { $0["class"] as? String == "set_aside" })
        let ema = try #require(report["ema"] as? [String: Any])
        #expect(ema["selection"] as? String == "a")
        #expect((ema["live_or_ema"] as? [String: Any])?["main_reads"] as? String == "ema")
        #expect((ema["live_or_ema"] as? [String: Any])?["matches"] as? String == "ema")

        // --ema b / both: B has no EMA copy: trouble, one line naming B.
        for choice in ["b", "both"] {
            let refused = try CLIRunner.run([a, fromEMA, "--ema", choice])
            #expect(refused.status == 2)
            #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains(fromEMA))
        }
        // --ema both on two EMA checkpoints: EMA against EMA as the UNet, both live UNets set aside.
        let both = try CLIRunner.run([a, a, "--ema", "both", "--json", "-"])
        #expect(both.status == 0)
        let bothReport = try json(both)
        let vs = try #require((bothReport["ema"] as? [String: Any])?["ema_vs_ema"] as? [String: Any])
        #expect(vs["pairs"] as? Int == unet.count)
        #expect((bothReport["only_in_b"] as? [[String: Any]])?.count == unet.count)
    }

    @Test("a batch manifest's pairs[].ema selects as --ema does; a bad value is trouble naming the member")
    func batchSelection() throws {
        let directory = try Fixtures.temporaryDirectory()
        let (a, fromEMA) = try writeWithEMAAndExport(in: directory)
        let manifest = directory.appendingPathComponent("manifest.json").path
        func write(_ pairs: [[String: Any]]) throws {
            try JSONSerialization.data(withJSONObject: ["ckdiff_batch_version": 1, "pairs": pairs]).write(to: URL(fileURLWithPath: manifest))
        }
        try write([
            ["name": "live", "a": "with-ema.safetensors", "b": "from-ema.safetensors"],
            ["name": "ema-a", "a": "with-ema.safetensors", "b": "from-ema.safetensors", "ema": "a"],
            ["name": "ema-none", "a": "with-ema.safetensors", "b": "from-ema.safetensors", "ema": "none"],
        ])
        let outcome = try CLIRunner.run(["batch", manifest, "--json", "-"])
        #expect(outcome.status == 1)
        let pairs = try #require(try CheckpointEdits.object(outcome.stdoutData)["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["status"] as? String } == ["different", "equivalent", "different"])
        let selections = pairs.map { (($0["report"] as? [String: Any])?["ema"] as? [String: Any])?["selection"] as? String }
        #expect(selections == ["none", "a", "none"])
        // The same answer as the command line's --ema a.
        let single = try CLIRunner.run([a, fromEMA, "--ema", "a"])
        #expect(single.status == 0)

        try write([["a": "with-ema.safetensors", "b": "from-ema.safetensors", "ema": "sideways"]])
        let refused = try CLIRunner.run(["batch", manifest])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains(manifest) && refused.stderr.contains("pairs[0].ema") && refused.stderr.contains("both"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
    }

    @Test("B made from A's live weights: the answer is live, with A or B holding the EMA copy")
    func liveAnswer() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("with-ema.safetensors").path
        try SafetensorsWriter.write(try ldmWithEMA(driftEMA: true), to: a)
        let (unet, _) = try unetKeys()
        for (arguments, tested) in [([a, Self.folder], "a"), ([Self.folder, a], "b")] {
            let outcome = try CLIRunner.run(arguments + ["--json", "-"])
            let answer = try #require((try json(outcome)["ema"] as? [String: Any])?["live_or_ema"] as? [String: Any])
            #expect(answer["tested_side"] as? String == tested)
            #expect(answer["matches"] as? String == "live" && answer["closer"] as? String == "live")
            #expect((answer["live"] as? [String: Any])?["tensors_closer"] as? Int == unet.count)
        }
    }
}
