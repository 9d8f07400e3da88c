import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

@Suite("ckdiff inspect health findings, the command line in process")
struct InspectHealthCLITests {
    static let sdxl32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")

    /// A copy of the SDXL reference file with some F32 tensors changed (values and dtype).
    private func copy(to path: String, change: (String, [Float]) -> (DType, [Float])?) throws {
        let header = try SafetensorsFile.open(Self.sdxl32)
        let file = try ReadOnlyFile(path: Self.sdxl32)
        let entries = try header.tensors.map { info -> SafetensorsWriter.Entry in
            let bytes = try file.readBytes(count: info.byteCount, at: info.fileOffset)
            guard info.dtype == .f32 else { return SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape, bytes: bytes) }
            let values = stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            }
            guard let (dtype, changed) = change(info.name, values) else {
                return SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape, bytes: bytes)
            }
            return dtype == .f16 ? .f16(info.name, info.shape, changed) : .f32(info.name, info.shape, changed)
        }
        try SafetensorsWriter.write(entries, to: path)
    }

    private func findings(_ arguments: [String]) throws -> [[String: Any]] {
        let outcome = try CLIRunner.run(["inspect", "--json"] + arguments)
        #expect(outcome.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        return try #require(json["findings"] as? [[String: Any]])
    }

    @Test("the clean reference conversions have no health finding, scanned or not")
    func clean() throws {
        for name in ["sdxl_tiny_sgm_fp32", "sdxl_tiny_sgm_fp16", "sd15_tiny_ldm_fp16"] {
            let path = Fixtures.path("reference/single_file/\(name).safetensors")
            #expect(try findings([path]).isEmpty)
            #expect(try findings(["--scan", path]).isEmpty)
        }
        #expect(try findings(["--scan", Fixtures.path("reference/sdxl_tiny_diffusers")]).isEmpty)
    }

    @Test("CLIP-L layer norms in F16 among F32 weights: mixed_dtypes naming them")
    func mixedDTypes() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("mixed.safetensors").path
        try copy(to: path) { name, values in
            name.hasPrefix("conditioner.embedders.0.") && name.contains("layer_norm1") ? (.f16, values) : nil
        }
        let found = try findings([path])
        let mixed = try #require(found.first { $0["kind"] as? String == "mixed_dtypes" })
        #expect(mixed["severity"] as? String == "warning")
        let tensors = try #require(mixed["tensors"] as? [String])
        #expect(!tensors.isEmpty && tensors.allSatisfy { $0.contains("layer_norm1") })
        #expect(found.count == 1)
    }

    @Test("with --scan: a NaN is an error, a value past 65504 in an F32 model an F16 overflow risk")
    func scanned() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("values.safetensors").path
        let nanKey = "model.diffusion_model.out.2.bias", bigKey = "first_stage_model.decoder.conv_in.weight"
        try copy(to: path) { name, values in
            var changed = values
            if name == nanKey { changed[0] = .nan; return (.f32, changed) }
            if name == bigKey { changed[1] = 70_000; changed[2] = -1e6; return (.f32, changed) }
            return nil
        }
        #expect(try findings([path]).isEmpty)
        let found = try findings(["--scan", path])
        let nonfinite = try #require(found.first { $0["kind"] as? String == "nonfinite" })
        #expect(nonfinite["severity"] as? String == "error" && nonfinite["tensors"] as? [String] == [nanKey])
        let risk = try #require(found.first { $0["kind"] as? String == "f16_overflow_risk" })
        #expect(risk["severity"] as? String == "warning" && risk["tensors"] as? [String] == [bigKey])
        #expect((risk["message"] as? String)?.contains("2 values") == true)
    }

    @Test("--fail-on: a NaN fails the gate (exit 1, the scan turned on by it); a clean file passes; the JSON carries the gate")
    func gate() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("nan.safetensors").path
        let nanKey = "model.diffusion_model.out.2.bias"
        try copy(to: path) { name, values in
            var changed = values
            if name == nanKey { changed[0] = .nan; return (.f32, changed) }
            return nil
        }
        let failed = try CLIRunner.run(["inspect", path, "--fail-on", "nonfinite"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stdout.contains("gate          FAILED (exit 1): nonfinite (fail on nonfinite)"), "\(failed.stdout)")
        let json = directory.appendingPathComponent("nan-report.json").path
        let saved = try CLIRunner.run(["inspect", path, "--fail-on", "default,f16-overflow", "--json", json])
        #expect(saved.status == 1)
        #expect(saved.stdout.contains("gate          FAILED"), "the terminal report still goes to standard output")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let gate = try #require(object["gate"] as? [String: Any])
        #expect(gate["failed"] as? Bool == true)
        #expect(gate["fail_on"] as? [String] == ["nonfinite", "dtype-mix", "ema-partial", "f16-overflow"])
        let triggered = try #require(gate["triggered"] as? [[String: Any]])
        #expect(triggered.map { $0["category"] as? String } == ["nonfinite"])
        #expect(triggered.first?["tensors"] as? [String] == [nanKey])

        let clean = try CLIRunner.run(["inspect", Self.sdxl32, "--fail-on", "default,f16-overflow"])
        #expect(clean.status == 0)
        #expect(clean.stdout.contains("gate          passed (exit 0): fail on nonfinite, dtype-mix, ema-partial, f16-overflow"))
        // without --fail-on there is no gate: exit 0 whatever the health findings, and "gate": null
        let ungated = try CLIRunner.run(["inspect", "--scan", path, "--json", "-"])
        #expect(ungated.status == 0)
        #expect(ungated.stdout.contains("\"gate\" : null"))
        for bad in ["", "bogus", "nonfinite,typo"] {
            let refused = try CLIRunner.run(["inspect", path, "--fail-on", bad])
            #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count == 1, "\(bad): \(refused.stderr)")
        }
    }

    @Test("inspect --json FILE writes the file; --json alone, --json - and the old '--json PATH' order print JSON only")
    func jsonOutput() throws {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("inspect.json").path
        let toFile = try CLIRunner.run(["inspect", "--json", file, Self.sdxl32])
        #expect(toFile.status == 0, "\(toFile.stderr)")
        #expect(toFile.stdout.contains("architecture  sdxl_base"))
        let written = try Data(contentsOf: URL(fileURLWithPath: file))
        for arguments in [["inspect", "--json", Self.sdxl32], ["inspect", Self.sdxl32, "--json"], ["inspect", Self.sdxl32, "--json", "-"],
                          ["inspect", "--json=-", Self.sdxl32]] {
            let outcome = try CLIRunner.run(arguments)
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stdoutData == written, "\(arguments)")
        }
        // the checkpoint is never taken for the output, and an output over the input is refused
        let over = try CLIRunner.run(["inspect", Self.sdxl32, "--json=\(Self.sdxl32)"])
        #expect(over.status == 2)
    }
}
