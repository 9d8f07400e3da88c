import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Reporting
import Testing

/// Kernel levels from the library's side: `CKDIFF_SIMD`, and reports that do not depend on the level.
/// Serialized: the report test forces the process-wide level (other tests may run meanwhile;
/// their results do not depend on it either).
@Suite("Kernel levels", .serialized)
struct KernelLevelTests {
    @Test("CKDIFF_SIMD: unset or empty keeps the best level, a level name forces it, others are refused")
    func environment() throws {
        let previous = KernelLevel.current
        defer { try? KernelLevel.force(previous) }
        // (This process's own CKDIFF_SIMD, if any, set the level before: back to the best.)
        try KernelLevel.force(nil)
        try KernelLevel.applyEnvironment([:])
        #expect(KernelLevel.current == KernelLevel.best)
        try KernelLevel.applyEnvironment(["CKDIFF_SIMD": ""])
        #expect(KernelLevel.current == KernelLevel.best)
        try KernelLevel.applyEnvironment(["CKDIFF_SIMD": "scalar"])
        #expect(KernelLevel.current == .scalar)
        #expect(throws: KernelLevelError.unknown("sse9")) { try KernelLevel.applyEnvironment(["CKDIFF_SIMD": "sse9"]) }
        #expect(throws: KernelLevelError.unknown("AVX2")) { try KernelLevel.applyEnvironment(["CKDIFF_SIMD": "AVX2"]) }
        // Every CPU lacks some level (x86-64 has no NEON, AArch64 no AVX): refused, level unchanged.
        let missing = try #require(KernelLevel.allCases.first { !$0.isAvailable })
        #expect(throws: KernelLevelError.unavailable(missing, available: KernelLevel.available)) {
            try KernelLevel.applyEnvironment(["CKDIFF_SIMD": missing.rawValue])
        }
        #expect(KernelLevel.current == .scalar)
        let message = KernelLevelError.unavailable(missing, available: KernelLevel.available).description
        #expect(message.hasPrefix("CKDIFF_SIMD=\(missing.rawValue): ") && !message.contains("\n"))
        try KernelLevel.force(nil)
        #expect(KernelLevel.current == KernelLevel.best)
        #expect(KernelLevel.available.contains(.scalar) && KernelLevel.available.first == KernelLevel.best)
    }

    /// The pairs of the bundled samples' batch manifest (Baselines/samples.json), as paths.
    static func samplePairs() throws -> [(name: String, a: String, b: String)] {
        let baselines = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Baselines")
        let data = try Data(contentsOf: baselines.appendingPathComponent("samples.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pairs = try #require(manifest["pairs"] as? [[String: Any]])
        return try pairs.map { pair in
            let name = try #require(pair["name"] as? String)
            let a = try #require(pair["a"] as? String), b = try #require(pair["b"] as? String)
            return (name, baselines.appendingPathComponent(a).standardized.path, baselines.appendingPathComponent(b).standardized.path)
        }
    }

    /// The diagnosed report of a pair, as JSON bytes, at the level in force.
    static func report(_ pathA: String, _ pathB: String) throws -> Data {
        // The whole pipeline as the executable runs it (policy: the default), in process.
        try ComparisonRun(a: pathA, b: pathB, threads: 2).run().report.jsonData()
    }

    @Test("the bundled samples' reports are byte-identical at every level this CPU runs")
    func reportsIdenticalAcrossLevels() throws {
        let previous = KernelLevel.current
        defer { try? KernelLevel.force(previous) }
        let pairs = try Self.samplePairs()
        #expect(pairs.count >= 5)
        for pair in pairs {
            try KernelLevel.force(.scalar)
            let reference = try Self.report(pair.a, pair.b)
            #expect(reference.count > 10_000)
            for level in KernelLevel.available where level != .scalar {
                try KernelLevel.force(level)
                let bytes = try Self.report(pair.a, pair.b)
                #expect(bytes == reference, "\(pair.name) at \(level)")
            }
        }
    }
}
