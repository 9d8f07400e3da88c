import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

@Suite("ckdiff compare, the command line in process")
struct CompareCLITests {
    static let singleFile = Fixtures.path("reference/single_file")
    static let fp32 = singleFile + "/sdxl_tiny_sgm_fp32.safetensors"
    static let fp16 = singleFile + "/sdxl_tiny_sgm_fp16.safetensors"
    static let schema = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/ckdiff-report.schema.json").path

    /// Writes a copy of `source` with some tensor values changed, through the test writer.
    private func perturbedCopy(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("perturbed.safetensors").path
        let values = (0..<64).map { Float($0) * 0.01 }
        var changed = values
        changed[10] += 0.5
        try SafetensorsWriter.write([.f32("x", [8, 8], values), .f32("y", [4], [1, 2, 3, 4])], to: directory.appendingPathComponent("base.safetensors").path)
        try SafetensorsWriter.write([.f32("x", [8, 8], changed), .f32("y", [4], [1, 2, 3, 4])], to: path)
        return path
    }

    @Test("a file against itself: exit 0, every tensor identical")
    func same() throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp32])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("EQUIVALENT"))
        #expect(outcome.stdout.contains("identical 1045"))
        #expect(outcome.stderr.isEmpty)
    }

    @Test("the real --half conversion: exit 0, every tensor within the F16 tolerance")
    func halfConversion() throws {
        let outcome = try CLIRunner.run(["compare", Self.fp32, Self.fp16, "--json", "-"])
        #expect(outcome.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["verdict"] as? String == "equivalent")
        #expect(summary["tensors_aligned"] as? Int == 1045)
        #expect(summary["tensors_within_tolerance"] as? Int == 1045)
        #expect(summary["tensors_dtype_mismatch"] as? Int == 1045)
        let violations = try JSONSchemaValidator(schemaPath: Self.schema).violations(of: outcome.stdoutData)
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }

    @Test("a changed value: exit 1, the tensor named with its location")
    func different() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = try perturbedCopy(in: directory)
        let a = directory.appendingPathComponent("base.safetensors").path
        let report = directory.appendingPathComponent("report.json").path
        let outcome = try CLIRunner.run([a, b, "--json", report])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("DIFFERENT"))
        #expect(outcome.stdout.contains("drifted"))
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        #expect(try JSONSchemaValidator(schemaPath: Self.schema).violations(of: data).isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        let x = try #require(tensors.first { $0["name"] as? String == "x" })
        #expect(x["max_abs_index"] as? Int == 10)
        #expect(x["verdict"] as? String == "drifted")
        #expect(x["mismatched"] as? Int == 1)
    }

    @Test("a key missing on one side is a difference")
    func missingKey() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("a.safetensors").path
        let b = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write([.f32("x", [2], [1, 2]), .f32("y", [2], [3, 4])], to: a)
        try SafetensorsWriter.write([.f32("x", [2], [1, 2])], to: b)
        let outcome = try CLIRunner.run([a, b, "--json", "-"])
        #expect(outcome.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let onlyInA = try #require(json["only_in_a"] as? [[String: Any]])
        #expect(onlyInA.count == 1 && onlyInA.first?["name"] as? String == "y")
    }

    @Test("NaN and infinity are written as strings, never as invalid JSON")
    func nonFiniteJSON() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("a.safetensors").path
        let b = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write([.f32("z", [3], [0, 0, 0])], to: a)
        try SafetensorsWriter.write([.f32("z", [3], [0, 1, .nan])], to: b)
        let outcome = try CLIRunner.run([a, b, "--json", "-"])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("\"rel_l2\" : \"inf\""))
        #expect(try JSONSchemaValidator(schemaPath: Self.schema).violations(of: outcome.stdoutData).isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let z = try #require((json["tensors"] as? [[String: Any]])?.first)
        #expect(z["verdict"] as? String == "nonfinite")
        #expect(z["new_nonfinite"] as? Int == 1 && z["b_nan"] as? Int == 1)
    }

    @Test("trouble exits 2 with one line naming the file", arguments: [
        ["missing.safetensors"],
        ["safetensors_cases/malformed/offsets_overlap.safetensors"],
        ["safetensors_cases/malformed/truncated_data.safetensors"],
    ])
    func trouble(relative: [String]) throws {
        let bad = Fixtures.path(relative[0])
        for arguments in [[bad, Self.fp32], [Self.fp32, bad]] {
            let outcome = try CLIRunner.run(arguments)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.isEmpty)
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(outcome.stderr.contains(bad))
        }
    }

    @Test("bad arguments exit 2", arguments: [["--atol", "1e-3"], ["--rtol", "1"], ["--top", "-1"], ["--threads", "0"]])
    func badArguments(extra: [String]) throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp32] + extra)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
    }

    @Test("--atol/--rtol replace the per-dtype defaults and are recorded")
    func fixedTolerance() throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--atol", "0", "--rtol", "0", "--json", "-"])
        #expect(outcome.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let tolerance = try #require(json["tolerance"] as? [String: Any])
        #expect(tolerance["mode"] as? String == "fixed")
    }

    @Test("a report is never written over an input")
    func refusesOverwritingInput() throws {
        let directory = try Fixtures.temporaryDirectory()
        let a = directory.appendingPathComponent("a.safetensors").path
        try SafetensorsWriter.write([.f32("x", [2], [1, 2])], to: a)
        let before = try Data(contentsOf: URL(fileURLWithPath: a))
        let outcome = try CLIRunner.run([a, a, "--json", a])
        #expect(outcome.status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == before)
    }

    @Test("no colour without a terminal, even when asked for auto")
    func noColourInPipes() throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16])
        #expect(!outcome.stdout.contains("\u{1B}["))
        let forced = try CLIRunner.run([Self.fp32, Self.fp16, "--color", "always"])
        #expect(forced.stdout.contains("\u{1B}["))
    }

    /// Copies a single file, keeping only the tensors `keep` accepts (a hand-made fault on real data).
    private func filteredCopy(of source: String, to path: String, keep: (String) -> Bool) throws {
        let header = try SafetensorsFile.open(source)
        let file = try ReadOnlyFile(path: source)
        let entries = try header.tensors.filter { keep($0.name) }.map { info in
            SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape,
                                    bytes: try file.readBytes(count: info.byteCount, at: info.fileOffset))
        }
        try SafetensorsWriter.write(entries, to: path)
    }

    @Test("a component missing from a conversion: exit 1, coverage names it")
    func missingComponent() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("no-vae.safetensors").path
        try filteredCopy(of: Self.fp16, to: b) { !$0.hasPrefix("first_stage_model.") }
        let outcome = try CLIRunner.run([Fixtures.path("reference/sdxl_tiny_diffusers"), b, "--json", "-"])
        #expect(outcome.status == 1)
        #expect(try JSONSchemaValidator(schemaPath: Self.schema).violations(of: outcome.stdoutData).isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let components = try #require(json["components"] as? [[String: Any]])
        let vae = try #require(components.first { $0["component"] as? String == "vae" })
        #expect(vae["only_in_a"] as? Int == 248)
        #expect(vae["pairs"] as? Int == 0)
        #expect(vae["aligned_share_a"] as? Double == 0)
        let unet = try #require(components.first { $0["component"] as? String == "unet" })
        #expect(unet["pairs"] as? Int == 720 && unet["aligned_share_a"] as? Double == 1)
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["only_in_a_weights"] as? Int == 248)
    }

    @Test("the diffusers folder against diffusers' own single-file conversions: equivalent, every tensor aligned",
          arguments: ["sdxl_tiny_sgm_fp32", "sdxl_tiny_sgm_fp16"])
    func crossLayout(file: String) throws {
        let outcome = try CLIRunner.run([Fixtures.path("reference/sdxl_tiny_diffusers"),
                                         Fixtures.path("reference/single_file/\(file).safetensors"), "--json", "-"])
        #expect(outcome.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["only_in_a"] as? Int == 0 && summary["only_in_b"] as? Int == 0)
        #expect(summary["tensors_aligned"] as? Int == 1057)
        #expect(summary["tensors_out_of_tolerance"] as? Int == 0)
        for component in try #require(json["components"] as? [[String: Any]]) {
            #expect(component["aligned_share_a"] as? Double == 1 && component["aligned_share_b"] as? Double == 1)
        }
    }

    /// Copies a single file, replacing the bytes of some tensors (a hand-made fault on real data).
    private func rewrittenCopy(of source: String, to path: String,
                               change: (String, [UInt8], TensorInfo) -> [UInt8]) throws {
        let header = try SafetensorsFile.open(source)
        let file = try ReadOnlyFile(path: source)
        let entries = try header.tensors.map { info in
            SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape,
                                    bytes: change(info.name, try file.readBytes(count: info.byteCount, at: info.fileOffset), info))
        }
        try SafetensorsWriter.write(entries, to: path)
    }

    private func tensors(_ data: Data) throws -> [[String: Any]] {
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["tensors"] as? [[String: Any]])
    }

    @Test("an untransposed OpenCLIP text_projection (the OneTrainer/kohya convention) is reported on that key alone")
    func untransposedProjection() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("untransposed.safetensors").path
        let key = "conditioner.embedders.1.model.text_projection"
        try rewrittenCopy(of: Self.fp32, to: b) { name, bytes, info in
            guard name == key, info.shape.count == 2 else { return bytes }
            // write the F32 matrix back transposed
            let n = info.shape[0], m = info.shape[1]
            var out = bytes
            for i in 0..<n { for j in 0..<m { for k in 0..<4 { out[(j * n + i) * 4 + k] = bytes[(i * m + j) * 4 + k] } } }
            return out
        }
        let outcome = try CLIRunner.run([Fixtures.path("reference/sdxl_tiny_diffusers"), b, "--json", "-"])
        #expect(outcome.status == 1)
        let bad = try tensors(outcome.stdoutData).filter { $0["verdict"] as? String != "identical" }
        #expect(bad.count == 1)
        #expect(bad.first?["b_name"] as? String == key)
        #expect(bad.first?["transform"] as? String == "transpose")
        #expect(bad.first?["verdict"] as? String == "transposed")
    }

    @Test("two tensors holding each other's values are both reported, and nothing else")
    func swappedValues() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("swapped.safetensors").path
        let first = "model.diffusion_model.input_blocks.1.0.in_layers.0.weight"
        let second = "model.diffusion_model.input_blocks.1.0.in_layers.0.bias"
        let source = try SafetensorsFile.open(Self.fp32)
        let file = try ReadOnlyFile(path: Self.fp32)
        let a1 = try #require(source.tensor(named: first)), a2 = try #require(source.tensor(named: second))
        #expect(a1.byteCount == a2.byteCount)
        let bytes1 = try file.readBytes(count: a1.byteCount, at: a1.fileOffset)
        let bytes2 = try file.readBytes(count: a2.byteCount, at: a2.fileOffset)
        try rewrittenCopy(of: Self.fp32, to: b) { name, bytes, _ in
            name == first ? bytes2 : (name == second ? bytes1 : bytes)
        }
        let outcome = try CLIRunner.run([Self.fp32, b, "--json", "-"])
        #expect(outcome.status == 1)
        let bad = try tensors(outcome.stdoutData).filter { $0["verdict"] as? String != "identical" }
        #expect(Set(bad.compactMap { $0["name"] as? String }) == [first, second])
        #expect(bad.allSatisfy { $0["verdict"] as? String == "swapped" })
        #expect(bad.first { $0["name"] as? String == first }?["holds"] as? String == second)
    }
}
