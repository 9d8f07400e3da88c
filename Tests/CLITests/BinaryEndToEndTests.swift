import Comparison
import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// The few checks that need the real executable: exit statuses as a shell sees them, the two
/// streams kept apart, files written, failed writes, and signals. Everything else runs the same
/// command line in process (``CLIRunner/run(_:environment:)``).
@Suite("ckdiff end to end, through the built binary")
struct BinaryEndToEndTests {
    static let singleFile = Fixtures.path("reference/single_file")
    static let fp32 = singleFile + "/sdxl_tiny_sgm_fp32.safetensors"
    static let fp16 = singleFile + "/sdxl_tiny_sgm_fp16.safetensors"

    /// Two small files that differ in one value.
    private func differentPair() throws -> (a: String, b: String, folder: URL) {
        let folder = try Fixtures.temporaryDirectory("ckdiff-e2e")
        let a = folder.appendingPathComponent("a.safetensors").path, b = folder.appendingPathComponent("b.safetensors").path
        let values = (0..<64).map { Float($0) * 0.01 }
        var changed = values
        changed[3] += 0.25
        try SafetensorsWriter.write([.f32("x", [8, 8], values)], to: a)
        try SafetensorsWriter.write([.f32("x", [8, 8], changed)], to: b)
        return (a, b, folder)
    }

    @Test("equivalent: exit 0, the report on standard output, nothing on standard error")
    func equivalent() throws {
        let outcome = try CLIRunner.runBinary([Self.fp32, Self.fp16])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("EQUIVALENT"))
        #expect(outcome.stderr.isEmpty)
    }

    @Test("different: exit 1 and the JSON report file written; --json - puts only JSON on standard output")
    func different() throws {
        let (a, b, folder) = try differentPair()
        let report = folder.appendingPathComponent("report.json").path
        let toFile = try CLIRunner.runBinary([a, b, "--json", report])
        #expect(toFile.status == 1)
        #expect(toFile.stdout.contains("DIFFERENT"))
        let written = try Data(contentsOf: URL(fileURLWithPath: report))
        #expect(try JSONSerialization.jsonObject(with: written) is [String: Any])
        let toStdout = try CLIRunner.runBinary([a, b, "--json", "-"])
        #expect(toStdout.status == 1)
        #expect(try JSONSerialization.jsonObject(with: toStdout.stdoutData) is [String: Any])
        #expect(toStdout.stdoutData == written)
    }

    @Test("trouble: a missing input is one line on standard error and exit 2; a usage error is exit 2, not 64")
    func trouble() throws {
        let missing = try CLIRunner.runBinary([Self.fp32, "/nonexistent/model.safetensors"])
        #expect(missing.status == 2)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.hasPrefix("ckdiff: error: "))
        #expect(missing.stderr.split(separator: "\n").count == 1)
        let usage = try CLIRunner.runBinary(["compare", Self.fp32, "--top", "x"])
        #expect(usage.status == 2)
        #expect(usage.stdout.isEmpty)
        #expect(!usage.stderr.isEmpty)
    }

    @Test("--help and --version go to standard output with exit 0")
    func helpAndVersion() throws {
        let help = try CLIRunner.runBinary(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: ckdiff"))
        let version = try CLIRunner.runBinary(["--version"])
        #expect(version.status == 0)
        #expect(!version.stdout.isEmpty && version.stderr.isEmpty)
    }

    @Test("a report that cannot be written (/dev/full) is exit 2 with one line, not a crash",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is needed"))
    func fullDevice() throws {
        let (a, b, _) = try differentPair()
        let outcome = try CLIRunner.runBinary([a, b, "--json", "/dev/full"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("/dev/full"))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }
}

/// `CKDIFF_SIMD` through the built binary: a level is forced, a bad value is refused before any work.
@Suite("CKDIFF_SIMD, through the built binary")
struct SIMDSwitchTests {
    @Test("an unknown value, and a level this CPU lacks, are one line and exit 2")
    func refused() throws {
        let file = BinaryEndToEndTests.fp32
        let unknown = try CLIRunner.runBinary([file, file], environment: ["CKDIFF_SIMD": "sse9"])
        #expect(unknown.status == 2)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.hasPrefix("ckdiff: error: CKDIFF_SIMD=") && unknown.stderr.split(separator: "\n").count == 1,
                "\(unknown.stderr)")
        let lacking = KernelLevel.allCases.filter { !KernelLevel.available.contains($0) }
        #expect(!lacking.isEmpty, "every CPU lacks either NEON or the x86 levels")
        for level in lacking {
            let outcome = try CLIRunner.runBinary([file, file], environment: ["CKDIFF_SIMD": level.rawValue])
            #expect(outcome.status == 2, "\(level)")
            #expect(outcome.stderr.contains(level.rawValue))
        }
    }

    @Test("every level this CPU runs gives the same report bytes through the binary")
    func everyLevelSameBytes() throws {
        let a = BinaryEndToEndTests.fp32, b = BinaryEndToEndTests.fp16
        let reference = try CLIRunner.runBinary([a, b, "--json", "-"], environment: ["CKDIFF_SIMD": "scalar"])
        #expect(reference.status == 0)
        for level in KernelLevel.available {
            let outcome = try CLIRunner.runBinary([a, b, "--json", "-"], environment: ["CKDIFF_SIMD": level.rawValue])
            #expect(outcome.stdoutData == reference.stdoutData, "\(level)")
        }
    }
}

/// Shapes whose dimensions multiply past Int64 (valid when one dimension is 0): no trap anywhere.
@Suite("Huge zero-element shapes, through the built binary")
struct HugeShapeTests {
    /// A safetensors file of one F32 tensor `name` with `shape` (`[1]`: one zero; else no data), its header written by hand.
    static func file(_ path: String, name: String, shape: [String]) throws {
        let size = shape == ["1"] ? 4 : 0
        let header = #"{"\#(name)":{"dtype":"F32","shape":[\#(shape.joined(separator: ","))],"data_offsets":[0,\#(size)]}}"#
        let bytes = Array(header.utf8)
        try Data(withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init) + bytes + Array(repeating: 0, count: size))
            .write(to: URL(fileURLWithPath: path))
    }

    @Test("[4294967296, 2147483648, 0] against [1], and against itself transposed: a result, not a crash",
          arguments: [["4294967296", "2147483648", "0"], ["0", "2147483648", "4294967296"]])
    func hugeEmpty(shape: [String]) throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-huge")
        let a = folder.appendingPathComponent("a.safetensors").path, b = folder.appendingPathComponent("b.safetensors").path
        try Self.file(a, name: "x", shape: shape)
        try Self.file(b, name: "x", shape: ["1"])
        let mismatch = try CLIRunner.runBinary([a, b])
        #expect(mismatch.status == 1, "\(mismatch.stderr)")
        #expect(mismatch.stdout.contains("shape"))
        // The OpenCLIP text projection is compared through its transpose: the other product path.
        let c = folder.appendingPathComponent("c.safetensors").path, d = folder.appendingPathComponent("d.safetensors").path
        try Self.file(c, name: "conditioner.embedders.1.model.text_projection", shape: shape)
        try Self.file(d, name: "conditioner.embedders.1.model.text_projection", shape: shape.reversed())
        let transposed = try CLIRunner.runBinary([c, d])
        #expect(transposed.status == 0 || transposed.status == 1, "\(transposed.status) \(transposed.stderr)")
    }
}
