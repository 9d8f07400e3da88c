import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Reporting
import Safetensors
import Testing

/// `ckdiff inspect` end to end, through the command line.
@Suite("inspect CLI")
struct InspectCLITests {
    /// Parses stdout as a JSON object.
    static func json(_ outcome: CLIRunner.Outcome) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any], "stdout: \(outcome.stdout.prefix(300))")
    }

    /// `components` as component → tensors.
    static func componentCounts(_ report: [String: Any]) throws -> [String: Int] {
        let list = try #require(report["components"] as? [[String: Any]])
        var counts: [String: Int] = [:]
        for entry in list {
            counts[try #require(entry["component"] as? String)] = try #require(entry["tensors"] as? Int)
        }
        return counts
    }

    /// Little-endian F64 bytes.
    static func f64(_ name: String, _ values: [Double]) -> SafetensorsWriter.Entry {
        SafetensorsWriter.Entry(name: name, dtype: .f64, shape: [values.count],
                                bytes: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    @Test("a tiny SD1.5 single file: exit 0, layout, architecture and components on the terminal")
    func terminal() throws {
        let path = Fixtures.path("reference/single_file/sd15_tiny_ldm_fp16.safetensors")
        let outcome = try CLIRunner.run(["inspect", path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        #expect(outcome.stderr.isEmpty)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == path)
        #expect(lines.contains("  layout        ldm"))
        #expect(lines.contains("  architecture  sd1"))
        #expect(lines.contains("  EMA           absent"))
        // The counts the corpus README states for this file: 686 + 248 + 52, all F16.
        #expect(lines.contains { $0.hasPrefix("  UNet ") && $0.contains(" 686 ") && $0.hasSuffix("F16 686") })
        #expect(lines.contains { $0.hasPrefix("  VAE ") && $0.contains(" 248 ") && $0.hasSuffix("F16 248") })
        #expect(lines.contains { $0.hasPrefix("  CLIP-L ") && $0.contains(" 52 ") && $0.hasSuffix("F16 52") })
        #expect(lines.contains("metadata: none"))
    }

    @Test("--json on the tiny SDXL folder: version, identity, components, nulls")
    func jsonFolder() throws {
        let path = Fixtures.path("reference/sdxl_tiny_diffusers")
        let outcome = try CLIRunner.run(["inspect", "--json", path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let report = try Self.json(outcome)
        #expect(report["ckdiff_inspect_version"] as? Int == 1)
        #expect(report["path"] as? String == path)
        #expect(report["storage"] as? String == "diffusers_folder")
        #expect(report["layout"] as? String == "diffusers")
        #expect(report["architecture"] as? String == "sdxl_base")
        #expect(report["pipeline_class"] as? String == "StableDiffusionXLPipeline")
        #expect(report["files"] as? Int == 4)
        #expect(report["tensors"] as? Int == 1057)
        #expect(try Self.componentCounts(report) == ["unet": 720, "vae": 248, "clip_l": 36, "open_clip": 53])
        // Absent values are explicit nulls, so the keys are always there.
        #expect(report["variant"] is NSNull)
        #expect(report["scan"] is NSNull)
        let metadata = try #require(report["metadata"] as? [String: Any])
        #expect(metadata["format"] as? String == "pt")
        let ema = try #require(report["ema"] as? [String: Any])
        #expect(ema["status"] as? String == "absent")
        #expect((report["evidence"] as? [String])?.isEmpty == false)
        // Sorted keys: the output's top-level keys appear in order.
        let text = outcome.stdout
        let positions = ["\"architecture\"", "\"bytes\"", "\"ckdiff_inspect_version\"", "\"components\"", "\"tensors\" : 1057"]
            .map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(zip(positions, positions.dropFirst()).allSatisfy { ($0.0 ?? text.endIndex) < ($0.1 ?? text.startIndex) })
    }

    @Test("a malformed file: exit 2 and one line on stderr naming it", arguments: [
        "header_not_json", "truncated_data", "offsets_gap", "empty",
    ])
    func malformed(name: String) throws {
        let path = Fixtures.path("safetensors_cases/malformed/\(name).safetensors")
        for arguments in [["inspect", path], ["inspect", "--json", path], ["inspect", "--scan", path]] {
            let outcome = try CLIRunner.run(arguments)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.isEmpty)
            let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(lines.count == 1, "stderr: \(outcome.stderr)")
            #expect(outcome.stderr.contains(path))
        }
    }

    @Test("a missing path: exit 2 and one line naming it")
    func missing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckdiff-missing-\(UUID().uuidString).safetensors").path
        let outcome = try CLIRunner.run(["inspect", path])
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        #expect(outcome.stderr.contains(path))
        #expect(outcome.stderr.contains("no such file"))
    }

    /// A file with known NaN, infinities and values beyond the F16 range in F32, F16, BF16 and F64,
    /// one F32 tensor spanning two scan chunks, and an integer tensor that is not scanned.
    static func scanFixture(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("scan.safetensors").path
        var big = [Float](repeating: 0.25, count: 300_000)
        big[262_150] = .nan        // in the second chunk of 2^18 elements
        big[299_999] = 1e6         // the last element
        try SafetensorsWriter.write([
            // NaN 1, +Inf 1, -Inf 1, beyond 2 (70000 and -65505; 65504 itself is the F16 maximum).
            .f32("model.diffusion_model.f32", [8], [1, .nan, .infinity, -.infinity, 70000, -65505, 65504, -1]),
            .f32("model.diffusion_model.big", [300_000], big),
            // NaN 1, +Inf 1, -Inf 2; 65504 is finite in F16.
            .f16("first_stage_model.f16", [6], [.nan, .infinity, -.infinity, -.infinity, 65504, 2]),
            // Beyond 2 (1e10, -3e38), NaN 1, +Inf 1.
            .bf16("cond_stage_model.transformer.text_model.bf16", [5], [1e10, -3e38, .nan, .infinity, 0.5]),
            // Beyond 1, NaN 1.
            f64("f64", [1e300, .nan, 42]),
            .i64("ints", [2], [Int64.max, -5]),
        ], to: path)
        return path
    }

    /// What ``scanFixture(in:)`` holds, per tensor: NaN, +Inf, -Inf, |x| > 65504 (the integer tensor is not scanned).
    static let scanExpected: [String: [Int]] = [
        "model.diffusion_model.f32": [1, 1, 1, 2],
        "model.diffusion_model.big": [1, 0, 0, 1],
        "first_stage_model.f16": [1, 1, 2, 0],
        "cond_stage_model.transformer.text_model.bf16": [1, 1, 0, 2],
        "f64": [1, 0, 0, 1],
        "ints": [0, 0, 0, 0],
    ]

    @Test("TensorScanner counts exactly the planted values per tensor, with one thread or two")
    func scannerDirect() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try Checkpoint.open(try Self.scanFixture(in: folder))
        for threads in [1, 2] {
            let counts = try TensorScanner(checkpoint, threads: threads).run()
            #expect(counts.count == checkpoint.tensors.count)
            var byName: [String: [Int]] = [:]
            for (tensor, c) in zip(checkpoint.tensors, counts) {
                byName[tensor.name] = [c.nan, c.positiveInfinity, c.negativeInfinity, c.beyondF16]
            }
            #expect(byName == Self.scanExpected, "threads \(threads)")
        }
    }

    @Test("--scan counts NaN, ±Inf and |x| > 65504 per tensor and per component, the same for any thread count")
    func scan() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Self.scanFixture(in: folder)
        let one = try CLIRunner.run(["inspect", "--scan", "--json", "--threads", "1", path])
        let two = try CLIRunner.run(["inspect", "--scan", "--json", "--threads", "2", path])
        #expect(one.status == 0, "stderr: \(one.stderr)")
        #expect(one.stdout == two.stdout)
        let report = try Self.json(one)
        let scan = try #require(report["scan"] as? [String: Any])
        #expect(scan["tensors_scanned"] as? Int == 5)
        func counts(_ object: Any?) throws -> [Int] {
            let c = try #require(object as? [String: Any])
            return ["nan", "pos_inf", "neg_inf", "beyond_f16"].map { c[$0] as? Int ?? -1 }
        }
        #expect(try counts(scan["totals"]) == [5, 3, 3, 6])
        let byComponent = try #require(scan["by_component"] as? [String: Any])
        #expect(try counts(byComponent["unet"]) == [2, 1, 1, 3])
        #expect(try counts(byComponent["vae"]) == [1, 1, 2, 0])
        #expect(try counts(byComponent["clip_l"]) == [1, 1, 0, 2])
        #expect(try counts(byComponent["other"]) == [1, 0, 0, 1])
        let tensors = try #require(scan["tensors"] as? [[String: Any]])
        var byName: [String: [Int]] = [:]
        for entry in tensors { byName[entry["name"] as? String ?? ""] = try counts(entry["counts"]) }
        #expect(byName == Self.scanExpected.filter { $0.key != "ints" })

        let text = try CLIRunner.run(["inspect", "--scan", path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("scan of 5 floating-point tensors: NaN 5, +Inf 3, -Inf 3, |x| > 65504 6"))
    }

    @Test("a component holding F16 and F32 tensors is reported as a dtype mix, with examples")
    func dtypeMix() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mix.safetensors").path
        let prefix = "cond_stage_model.transformer.text_model.encoder.layers.0."
        try SafetensorsWriter.write([
            .f16(prefix + "self_attn.q_proj.weight", [2, 2], [1, 2, 3, 4]),
            .f16(prefix + "self_attn.k_proj.weight", [2, 2], [1, 2, 3, 4]),
            .f32(prefix + "layer_norm1.weight", [2], [1, 1]),
            .f16("model.diffusion_model.out.2.weight", [2], [1, 1]),
        ], to: path)
        let outcome = try CLIRunner.run(["inspect", "--json", path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let mixes = try #require(try Self.json(outcome)["dtype_mixes"] as? [[String: Any]])
        #expect(mixes.count == 1)
        let mix = try #require(mixes.first)
        #expect(mix["component"] as? String == "clip_l")
        let dtypes = try #require(mix["dtypes"] as? [[String: Any]])
        #expect(dtypes.map { $0["dtype"] as? String } == ["F16", "F32"])
        #expect(dtypes.map { $0["tensors"] as? Int } == [2, 1])
        #expect(dtypes.last?["examples"] as? [String] == [prefix + "layer_norm1.weight"])
        let text = try CLIRunner.run(["inspect", path]).stdout
        #expect(text.contains("expected scalar type Float but found Half"))
        #expect(text.contains("  CLIP-L: F16 2, F32 1"))
    }

    @Test("InspectReport.dtypeMixes: a CLIP-L with F16 layer norms among F32 weights is named, other components are not")
    func dtypeMixInReport() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("clip-mix.safetensors").path
        let layer = "cond_stage_model.transformer.text_model.encoder.layers.0."
        try SafetensorsWriter.write([
            .f32(layer + "self_attn.q_proj.weight", [2, 2], [1, 2, 3, 4]),
            .f32(layer + "self_attn.q_proj.bias", [2], [1, 2]),
            .f32(layer + "mlp.fc1.weight", [2, 2], [1, 2, 3, 4]),
            .f16(layer + "layer_norm1.weight", [2], [1, 1]),
            .f16(layer + "layer_norm2.weight", [2], [1, 1]),
            // A VAE all in F32 and a UNet all in F16: no mix.
            .f32("first_stage_model.decoder.conv_in.weight", [2], [1, 2]),
            .f16("model.diffusion_model.input_blocks.0.0.weight", [2], [1, 2]),
            .f16("model.diffusion_model.out.2.weight", [2], [1, 2]),
        ], to: path)
        let checkpoint = try Checkpoint.open(path)
        let report = InspectReport(checkpoint, identity: checkpoint.identify(), scan: nil)
        #expect(report.dtypeMixes.map(\.component) == ["clip_l"])
        let mix = try #require(report.dtypeMixes.first)
        #expect(mix.dtypes.map(\.dtype) == ["F32", "F16"])
        #expect(mix.dtypes.map(\.tensors) == [3, 2])
        #expect(mix.dtypes.last?.examples == [layer + "layer_norm1.weight", layer + "layer_norm2.weight"])
        #expect(report.scan == nil)
    }

    @Test("EMA present when every UNet tensor has its copy, absent without model_ema.")
    func emaPresentAbsent() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let unet: [SafetensorsWriter.Entry] = [
            .f32("model.diffusion_model.input_blocks.0.0.weight", [2], [1, 2]),
            .f32("model.diffusion_model.out.2.weight", [2], [1, 2]),
        ]
        let ema: [SafetensorsWriter.Entry] = [
            .f32("model_ema.diffusion_modelinput_blocks00weight", [2], [1, 2]),
            .f32("model_ema.diffusion_modelout2weight", [2], [1, 2]),
            .f32("model_ema.decay", [], [0.9999]),
        ]
        for (name, entries, status, tensors) in [("with-ema", unet + ema, "present", 2), ("no-ema", unet, "absent", 0)] {
            let path = folder.appendingPathComponent(name + ".safetensors").path
            try SafetensorsWriter.write(entries, to: path)
            let outcome = try CLIRunner.run(["inspect", "--json", path])
            #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
            let report = try #require(try Self.json(outcome)["ema"] as? [String: Any])
            #expect(report["status"] as? String == status)
            #expect(report["tensors"] as? Int == tensors)
            #expect(report["unet_tensors"] as? Int == 2)
        }
    }

    @Test("metadata: complete in JSON, shortened on the terminal; EMA partial")
    func metadataAndEMA() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-inspect-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("meta.safetensors").path
        let config = "{\"model_type\": \"STABLE_DIFFUSION_XL_10_BASE\", \"padding\": \"" + String(repeating: "x", count: 2000) + "\"}"
        let metadata = [
            "format": "pt", "modelspec.architecture": "stable-diffusion-xl-v1-base",
            "ss_base_model_version": "sdxl_base_v1-0", "ss_network_module": "networks.lora", "ss_network_dim": "16",
            "ot_config": config, "prompt": "{\"3\": {}}",
        ]
        try SafetensorsWriter.write([
            .f32("model.diffusion_model.input_blocks.0.0.weight", [2], [1, 2]),
            .f32("model.diffusion_model.input_blocks.0.0.bias", [2], [1, 2]),
            .f32("model.diffusion_model.out.2.weight", [2], [1, 2]),
            .f32("model_ema.diffusion_modelinput_blocks00weight", [2], [1, 2]),
            .f32("model_ema.decay", [], [0.9999]),
        ], metadata: metadata, to: path)
        let outcome = try CLIRunner.run(["inspect", "--json", path])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let report = try Self.json(outcome)
        let summary = try #require(report["metadata"] as? [String: Any])
        #expect(summary["entries"] as? Int == metadata.count)
        #expect(summary["format"] as? String == "pt")
        #expect((summary["onetrainer"] as? [String: String])?["ot_config"] == config)
        #expect((summary["kohya"] as? [String: String])?.count == 3)
        #expect((summary["modelspec"] as? [String: String]) == ["modelspec.architecture": "stable-diffusion-xl-v1-base"])
        #expect((summary["other"] as? [String: String]) == ["format": "pt", "prompt": "{\"3\": {}}"])
        let ema = try #require(report["ema"] as? [String: Any])
        #expect(ema["status"] as? String == "partial")
        #expect(ema["tensors"] as? Int == 1)
        #expect(ema["unet_tensors"] as? Int == 3)

        let text = try CLIRunner.run(["inspect", path]).stdout
        #expect(!text.contains(config))
        #expect(text.contains("(\(config.count) characters)"))
        #expect(text.contains("ss_base_model_version = sdxl_base_v1-0"))
        #expect(text.contains("  EMA           partial (1 EMA tensors for 3 UNet tensors)"))
    }
}
