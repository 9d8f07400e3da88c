import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

@Suite("Diagnosis through the command line, in process")
struct DiagnosisCLITests {
    static let reference = Fixtures.path("reference")
    static let sdxl32 = reference + "/single_file/sdxl_tiny_sgm_fp32.safetensors"
    static let sdxl16 = reference + "/single_file/sdxl_tiny_sgm_fp16.safetensors"
    static let schema = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/ckdiff-report.schema.json").path

    private func report(_ arguments: [String]) throws -> (status: Int32, json: [String: Any], stdout: Data) {
        let outcome = try CLIRunner.run(arguments + ["--json", "-"])
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let violations = try JSONSchemaValidator(schemaPath: Self.schema).violations(of: outcome.stdoutData)
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        return (outcome.status, json, outcome.stdoutData)
    }

    private func findings(_ json: [String: Any]) -> [[String: Any]] {
        json["findings"] as? [[String: Any]] ?? []
    }

    private func tensors(_ json: [String: Any]) -> [[String: Any]] {
        json["tensors"] as? [[String: Any]] ?? []
    }

    /// The reference conversions made by diffusers' own scripts (with and without --half), in both directions.
    static let cleanPairs: [[String]] = [
        ["sdxl_tiny_diffusers", "single_file/sdxl_tiny_sgm_fp32.safetensors"],
        ["sdxl_tiny_diffusers", "single_file/sdxl_tiny_sgm_fp16.safetensors"],
        ["sd15_tiny_diffusers", "single_file/sd15_tiny_ldm_fp32.safetensors"],
        ["sd15_tiny_diffusers", "single_file/sd15_tiny_ldm_fp16.safetensors"],
        ["single_file/sdxl_tiny_sgm_fp32.safetensors", "single_file/sdxl_tiny_sgm_fp16.safetensors"],
        ["single_file/sdxl_tiny_sgm_fp16.safetensors", "single_file/sdxl_tiny_sgm_fp32.safetensors"],
        ["single_file/sd15_tiny_ldm_fp16.safetensors", "sd15_tiny_diffusers"],
    ]

    @Test("clean reference conversions: equivalent, every pair an exact cast or identical, no warning or error finding",
          arguments: cleanPairs)
    func cleanConversions(pair: [String]) throws {
        let r = try report([Self.reference + "/" + pair[0], Self.reference + "/" + pair[1]])
        #expect(r.status == 0)
        let loud = findings(r.json).filter { $0["severity"] as? String != "info" }
        #expect(loud.isEmpty, "\(loud.prefix(3))")
        // The exact-cast check does not run on transposed pairs: those may only be within tolerance.
        let verdicts = Set(tensors(r.json).filter { $0["transform"] as? String != "transpose" }.compactMap { $0["verdict"] as? String })
        #expect(verdicts.isSubset(of: ["identical", "exact_cast"]), "\(verdicts)")
        let transposed = Set(tensors(r.json).filter { $0["transform"] as? String == "transpose" }.compactMap { $0["verdict"] as? String })
        #expect(transposed.isSubset(of: ["identical", "exact_cast", "within_tolerance"]), "\(transposed)")
        let dtypes = tensors(r.json).contains { $0["a_dtype"] as? String != $0["b_dtype"] as? String }
        if dtypes {
            #expect(findings(r.json).contains { $0["kind"] as? String == "component_cast" })
        }
    }

    /// Copies a single file, replacing the bytes of some tensors (a hand-made fault on real data).
    private func rewrittenCopy(of source: String, to path: String, rename: [String: String] = [:],
                               change: (String, [UInt8], TensorInfo) -> [UInt8] = { _, bytes, _ in bytes }) throws {
        let header = try SafetensorsFile.open(source)
        let file = try ReadOnlyFile(path: source)
        let entries = try header.tensors.map { info in
            SafetensorsWriter.Entry(name: rename[info.name] ?? info.name, dtype: info.dtype, shape: info.shape,
                                    bytes: change(info.name, try file.readBytes(count: info.byteCount, at: info.fileOffset), info))
        }
        try SafetensorsWriter.write(entries, to: path)
    }

    @Test("q and k swapped inside a fused in_proj_weight: permuted on those rows, nothing else")
    func permutedQKV() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("qkv.safetensors").path
        let key = "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight"
        try rewrittenCopy(of: Self.sdxl32, to: b) { name, bytes, _ in
            guard name == key else { return bytes }
            let third = bytes.count / 3
            return Array(bytes[third..<(2 * third)]) + Array(bytes[..<third]) + Array(bytes[(2 * third)...])
        }
        let r = try report([Self.sdxl32, b])
        #expect(r.status == 1)
        let bad = tensors(r.json).filter { $0["verdict"] as? String != "identical" }
        #expect(bad.count == 1)
        #expect(bad.first?["verdict"] as? String == "permuted")
        #expect(bad.first?["permutation"] as? [Int] == [1, 0, 2])
        #expect(findings(r.json).first?["kind"] as? String == "permuted")
    }

    @Test("the untransposed text_projection against the diffusers folder: the OneTrainer/kohya convention named first")
    func textProjection() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("untransposed.safetensors").path
        let key = "conditioner.embedders.1.model.text_projection"
        try rewrittenCopy(of: Self.sdxl16, to: b) { name, bytes, info in
            guard name == key, info.shape.count == 2 else { return bytes }
            let n = info.shape[0], m = info.shape[1], size = 2
            var out = bytes
            for i in 0..<n { for j in 0..<m { for k in 0..<size { out[(j * n + i) * size + k] = bytes[(i * m + j) * size + k] } } }
            return out
        }
        let outcome = try CLIRunner.run([Self.reference + "/sdxl_tiny_diffusers", b])
        #expect(outcome.status == 1)
        let why = try #require(outcome.stdout.range(of: "why:"))
        let table = try #require(outcome.stdout.range(of: "coverage"))
        #expect(why.lowerBound < table.lowerBound)
        #expect(outcome.stdout.contains("OneTrainer/kohya"))
        let r = try report([Self.reference + "/sdxl_tiny_diffusers", b])
        let kinds = findings(r.json).filter { $0["severity"] as? String != "info" }.compactMap { $0["kind"] as? String }
        #expect(kinds == ["text_projection_orientation"])
    }

    @Test("a VAE weight multiplied by 0.5: scaled with c, and an unknown rename found by content")
    func scaledAndRenamed() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("faults.safetensors").path
        let scaledKey = "first_stage_model.decoder.conv_in.weight"
        let renamedKey = "first_stage_model.encoder.conv_out.bias"
        try rewrittenCopy(of: Self.sdxl32, to: b, rename: [renamedKey: "first_stage_model.encoder.conv_output.bias"]) { name, bytes, info in
            guard name == scaledKey, info.dtype == .f32 else { return bytes }
            var out = bytes
            for i in stride(from: 0, to: bytes.count, by: 4) {
                let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                let half = (Float(bitPattern: bits) * 0.5).bitPattern
                for k in 0..<4 { out[i + k] = UInt8((half >> (8 * UInt32(k))) & 0xff) }
            }
            return out
        }
        let r = try report([Self.sdxl32, b])
        #expect(r.status == 1)
        let scaled = try #require(tensors(r.json).first { $0["name"] as? String == scaledKey })
        #expect(scaled["verdict"] as? String == "scaled")
        #expect(scaled["scale"] as? Double == 0.5)
        let renamed = try #require(r.json["renamed"] as? [[String: Any]])
        #expect(renamed.count == 1)
        #expect(renamed.first?["a_name"] as? String == renamedKey)
        #expect(renamed.first?["verdict"] as? String == "identical")
        #expect((r.json["only_in_a"] as? [Any])?.isEmpty == true)
        let kinds = Set(findings(r.json).compactMap { $0["kind"] as? String })
        #expect(kinds == ["scaled", "renamed"])
    }
}
