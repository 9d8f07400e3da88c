import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// Legacy PyTorch files and hostile inputs through the command line: what users run.
@Suite("ckdiff on .ckpt files and hostile inputs, the command line in process")
struct HostileInputCLITests {
    static func ckpt(_ name: String) -> String { Fixtures.path("ckpt/" + name) }

    @Test("a torch.save file against its safetensors twin: exit 0, every tensor identical", arguments: [
        ("dtypes.pt", "dtypes.safetensors"), ("legacy.pt", "legacy.safetensors"), ("lightning.ckpt", "lightning.safetensors"),
        ("ema.pt", "ema.safetensors"), ("parameters.pth", "parameters.safetensors"), ("zip64.pt", "dtypes.safetensors"),
        ("module_state.pt", "module_state.safetensors"),
    ])
    func twins(_ torch: String, _ twin: String) throws {
        let count = try SafetensorsFile.open(Self.ckpt(twin)).tensors.count
        let outcome = try CLIRunner.run([Self.ckpt(torch), Self.ckpt(twin), "--json", "-"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: outcome.stdoutData) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["tensors_aligned"] as? Int == count)
        #expect(summary["tensors_identical"] as? Int == count)
        #expect(summary["only_in_a"] as? Int == 0 && summary["only_in_b"] as? Int == 0)
    }

    @Test("inspect reads a Lightning .ckpt: its tensors and global_step")
    func inspectCkpt() throws {
        let outcome = try CLIRunner.run(["inspect", Self.ckpt("lightning.ckpt")])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("6 tensors"))
        #expect(outcome.stdout.contains("global_step") && outcome.stdout.contains("1234"))
    }

    @Test("a hostile pickle: exit 2, one line naming the file and the global, and nothing run", arguments: [
        ("evil_system.pt", "posix.system"), ("evil_eval.ckpt", "__builtin__.eval"), ("evil_getattr.pt", "builtins.getattr"),
        ("evil_class.pt", "__main__.Unknown"), ("evil_legacy.pt", "posix.system"),
    ])
    func hostilePickle(_ name: String, _ global: String) throws {
        let marker = "/tmp/ckdiff-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        for arguments in [[Self.ckpt(name), Self.ckpt("dtypes.safetensors")], ["inspect", Self.ckpt(name)]] {
            let outcome = try CLIRunner.run(arguments)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.isEmpty)
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(outcome.stderr.contains(Self.ckpt(name)) && outcome.stderr.contains("'\(global)'"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("refused .ckpt files: exit 2 with one line", arguments: [
        ("compressed.pt", "compressed"), ("noncontiguous.pt", "tensor 'transposed'"),
    ])
    func refusedCkpt(_ name: String, _ phrase: String) throws {
        let outcome = try CLIRunner.run([Self.ckpt(name), Self.ckpt("dtypes.safetensors")])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains(phrase))
    }

    @Test("hostile safetensors headers: exit 2 with one line naming the file", arguments: [
        "malformed/header_len_over_limit.safetensors", "malformed/header_len_u64_max.safetensors",
        "malformed/shape_product_overflow.safetensors",
    ])
    func hostileSafetensors(_ name: String) throws {
        let path = Fixtures.path("safetensors_cases/" + name)
        let outcome = try CLIRunner.run([path, path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains(path))
    }

    @Test("a header nested a million deep: exit 2 with one line, no stack overflow")
    func deepJSON() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("deep.safetensors").path
        let header = Array(("{\"t\":" + String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000) + "}").utf8)
        try Data(withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header).write(to: URL(fileURLWithPath: path))
        let outcome = try CLIRunner.run(["inspect", path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains("nesting"))
    }

    @Test("100,000 empty tensors: read in bounded memory (peak RSS under 40 bytes per header byte + 100 MB)")
    func manyTinyTensors() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("many.safetensors").path
        var header = "{"
        for i in 0..<100_000 { header += (i == 0 ? "" : ",") + "\"t\(i)\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}" }
        header += "}"
        let bytes = Array(header.utf8)
        try Data(withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init) + bytes).write(to: URL(fileURLWithPath: path))
        let before = Self.childrenPeakRSS()
        // Memory is a property of a process: this one runs the built binary, not the in-process command line.
        let outcome = try CLIRunner.runBinary(["inspect", path])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("100000"))
        let peak = Self.childrenPeakRSS()
        // ru_maxrss of children is the largest child so far; only meaningful if this child set it.
        if peak > before {
            #expect(peak < 40 * bytes.count + 100_000_000, "peak RSS \(peak) bytes for a \(bytes.count)-byte header")
        }
    }

    @Test("50,000 empty tensors compare in bounded time (a guard against gross regressions)")
    func manyTensorsCompare() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("many.safetensors").path
        try SafetensorsWriter.write((0..<50_000).map { .f32("t\($0)", [0], []) }, to: path)
        let clock = ContinuousClock()
        var outcome: CLIRunner.Outcome?
        let elapsed = try clock.measure { outcome = try CLIRunner.run([path, path]) }
        #expect(outcome?.status == 0)
        // 5 to 15 s in a debug build on 2 busy cores. The coverage table was once quadratic in the tensor
        // count (100,000 tensors: 95 s, now 7.7 s); Fuzz/RESULTS.md has the measurements.
        #expect(elapsed < .seconds(60))
    }

    /// The peak resident set of the largest child process waited for, in bytes.
    static func childrenPeakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    @Test("a symbolic link out of a diffusers folder: exit 2 with one line")
    func symlinkOut() throws {
        let outside = try Fixtures.temporaryDirectory()
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside); try? FileManager.default.removeItem(at: folder) }
        try SafetensorsWriter.write([.f32("x", [2], [1, 2])], to: outside.appendingPathComponent("w.safetensors").path)
        try Data(#"{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"]}"#.utf8)
            .write(to: folder.appendingPathComponent("model_index.json"))
        let unet = folder.appendingPathComponent("unet")
        try FileManager.default.createDirectory(at: unet, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path,
                                                   withDestinationPath: outside.appendingPathComponent("w.safetensors").path)
        let outcome = try CLIRunner.run([folder.path, folder.path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains("outside the folder"))
    }

    @Test("a report is never written over an input, whatever its spelling", arguments: ["link", "dotdot", "hardlink", "ckpt"])
    func reportOverInput(_ spelling: String) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var input = folder.appendingPathComponent("a.safetensors").path
        if spelling == "ckpt" {
            input = folder.appendingPathComponent("a.ckpt").path
            try FileManager.default.copyItem(atPath: Self.ckpt("lightning.ckpt"), toPath: input)
        } else {
            try SafetensorsWriter.write([.f32("x", [2], [1, 2])], to: input)
        }
        let target: String
        switch spelling {
        case "link":
            target = folder.appendingPathComponent("report.json").path
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: input)
        case "dotdot":
            let sub = folder.appendingPathComponent("sub")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            target = sub.path + "/../" + (input as NSString).lastPathComponent
        case "hardlink":
            target = folder.appendingPathComponent("report.json").path
            try FileManager.default.linkItem(atPath: input, toPath: target)
        default:
            target = input
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let outcome = try CLIRunner.run([input, input, "--json", target])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("refusing to write a report over the input"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }

    @Test("a report replaces an existing file whole, leaving no temporary file; read-only inputs are read")
    func atomicReport() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a.pt").path
        try FileManager.default.copyItem(atPath: Self.ckpt("dtypes.pt"), toPath: a)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: a)
        let modified = try FileManager.default.attributesOfItem(atPath: a)[.modificationDate] as? Date
        let report = folder.appendingPathComponent("report.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: report))
        let outcome = try CLIRunner.run([a, Self.ckpt("dtypes.safetensors"), "--json", report])
        #expect(outcome.status == 0)
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) is [String: Any])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["a.pt", "report.json"])
        #expect(try FileManager.default.attributesOfItem(atPath: a)[.modificationDate] as? Date == modified)
    }
}
