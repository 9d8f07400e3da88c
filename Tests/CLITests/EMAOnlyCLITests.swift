import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// A single file holding an EMA copy (`model_ema.*`) and a VAE but no live UNet, through the built binary:
/// inspect, the suggestion of compare and `--ema a` agree that the EMA copy is there.
@Suite("EMA copy without a live UNet, through the binary")
struct EMAOnlyCLITests {
    static let ldm = Fixtures.path("reference/single_file/sd15_tiny_ldm_fp32.safetensors")
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

    @Test("inspect says EMA present, compare suggests --ema a, and --ema a compares the copy where the UNet would be")
    func emaWithoutLiveUNet() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try entries(Self.ldm)
        let unet = all.filter { $0.name.hasPrefix(Self.unetPrefix) }
        let vae = all.filter { $0.name.hasPrefix("first_stage_model.") }
        #expect(!unet.isEmpty && !vae.isEmpty)
        // A: LitEma's names for the UNet (written out here independently of ckdiff), the VAE, the two scalars.
        var emaOnly = vae
        for entry in unet {
            var ema = entry
            ema.name = "model_ema." + entry.name.split(separator: ".").dropFirst().joined()
            emaOnly.append(ema)
        }
        emaOnly.append(.f32("model_ema.decay", [], [0.9999]))
        emaOnly.append(SafetensorsWriter.Entry(name: "model_ema.num_updates", dtype: .i32, shape: [],
                                               bytes: withUnsafeBytes(of: Int32(10).littleEndian, Array.init)))
        let a = directory.appendingPathComponent("ema-only.safetensors").path
        let b = directory.appendingPathComponent("live.safetensors").path
        try SafetensorsWriter.write(emaOnly, to: a)
        try SafetensorsWriter.write(unet + vae, to: b)

        let inspect = try CLIRunner.run(["inspect", a, "--json"])
        #expect(inspect.status == 0)
        let identity = try #require(try JSONSerialization.jsonObject(with: inspect.stdoutData) as? [String: Any])
        #expect((identity["ema"] as? [String: Any])?["status"] as? String == "present")

        let plain = try CLIRunner.run([a, b])
        #expect(plain.status == 1)
        #expect(plain.stdout.contains("--ema a"))

        let selected = try CLIRunner.run([a, b, "--ema", "a", "--json", "-"])
        #expect(selected.status == 0, "\(selected.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: selected.stdoutData) as? [String: Any])
        let tensors = try #require(report["tensors"] as? [[String: Any]])
        #expect(tensors.count == unet.count + vae.count)
        #expect(tensors.allSatisfy { $0["verdict"] as? String == "identical" })
        let onlyInA = try #require(report["only_in_a"] as? [[String: Any]])
        #expect(Set(onlyInA.compactMap { $0["name"] as? String }) == ["model_ema.decay", "model_ema.num_updates"])
        #expect((report["only_in_b"] as? [[String: Any]])?.isEmpty == true)
    }
}
