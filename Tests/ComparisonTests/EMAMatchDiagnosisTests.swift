import CKDiffTestSupport
import Checkpoints
@testable import Comparison
import Foundation
import Safetensors
import Testing

/// `ema_match` in process, on diffusers' own SD1.5 conversion (`Tests/Fixtures/reference`) with an
/// EMA copy generated from its UNet: LitEma's keys (`model_ema.` + the key after `model.` without
/// dots), values mapped from the live ones. Only the UNet is kept, so every pair is a UNet pair.
@Suite("Diagnosis: ema_match from the live-or-EMA analysis")
struct EMAMatchDiagnosisTests {
    typealias Weight = (key: String, shape: [Int], live: [Float], ema: [Float])

    static func emaKey(_ key: String) -> String {
        "model_ema." + key.split(separator: ".").dropFirst().joined()
    }

    /// The conversion's UNet weights, and the EMA copy made by `ema` from them.
    static func weights(_ ema: (Float) -> Float) throws -> [Weight] {
        let path = Fixtures.path("reference/single_file/sd15_tiny_ldm_fp32.safetensors")
        let header = try SafetensorsFile.open(path)
        let file = try ReadOnlyFile(path: path)
        return try header.tensors.filter { $0.name.hasPrefix("model.diffusion_model.") }.map { info in
            #expect(info.dtype == .f32)
            let bytes = try file.readBytes(count: info.byteCount, at: info.fileOffset)
            let live = stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            }
            return (info.name, info.shape, live, live.map(ema))
        }
    }

    struct Outcome {
        var plan: Alignment
        var analysis: EMAAnalysis?
        var result: Diagnoser.Result
    }

    /// Writes both files, aligns, compares, runs the analysis and diagnosis.
    static func diagnose(_ a: [SafetensorsWriter.Entry], _ b: [SafetensorsWriter.Entry],
                         selection: EMASelection = .live) throws -> Outcome {
        let directory = try Fixtures.temporaryDirectory("ckdiff-emamatch-diagnosis")
        let pathA = directory.appendingPathComponent("a.safetensors").path
        let pathB = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write(a, to: pathA)
        try SafetensorsWriter.write(b, to: pathB)
        let checkpointA = try Checkpoint.open(pathA), checkpointB = try Checkpoint.open(pathB)
        let options = ComparisonOptions(threads: 2)
        let plan = try Alignment.aligning(checkpointA, checkpointB, ema: selection)
        let first = try Comparator(options: options).compare(plan)
        let analysis = try EMAAnalysis.run(plan, comparisons: first, selection: selection, options: options)
        let result = try Diagnoser(plan, options: options).run(first, ema: analysis)
        return Outcome(plan: plan, analysis: analysis, result: result)
    }

    static func withEMA(_ w: [Weight]) -> [SafetensorsWriter.Entry] {
        w.map { .f32($0.key, $0.shape, $0.live) } + w.map { .f32(emaKey($0.key), $0.shape, $0.ema) }
    }

    @Test("B = A's EMA values: ema_match with the EMA key, one ema_weights finding; without the analysis: drifted")
    func emaExport() throws {
        let w = try Self.weights { $0 * 0.98 + 0.002 }
        let b = w.map { SafetensorsWriter.Entry.f32($0.key, $0.shape, $0.ema) }
        let outcome = try Self.diagnose(Self.withEMA(w), b)
        let analysis = try #require(outcome.analysis)
        #expect(analysis.side == .a && !analysis.mainIsEMA)
        #expect(outcome.plan.pairs.count == w.count)
        for pair in outcome.plan.pairs {
            let d = outcome.result.pairs[pair.id]
            #expect(d.verdict == .emaMatch, "\(pair.name): \(d.evidence)")
            #expect(d.holds == Self.emaKey(pair.name))
            #expect(d.isDifference)
        }
        let finding = try #require(outcome.result.findings.first)
        #expect(finding.kind == "ema_weights" && finding.severity == .warning)
        #expect(finding.parameters == w.reduce(0) { $0 + $1.live.count })
        #expect(!outcome.result.findings.contains { $0.kind == "drifted" })

        // The old call (no analysis) keeps the statistical diagnosis: the same pairs are drifted.
        let a = try Checkpoint.open(try writeTemp(Self.withEMA(w))), bb = try Checkpoint.open(try writeTemp(b))
        let plan = Alignment.aligning(a, bb)
        let first = try Comparator(options: ComparisonOptions(threads: 2)).compare(plan)
        let without = try Diagnoser(plan, options: ComparisonOptions(threads: 2)).run(first)
        #expect(without.pairs.allSatisfy { $0.verdict == .drifted })
        #expect(!without.findings.contains { $0.kind == "ema_weights" })
    }

    @Test("B within tolerance of A's live weights while identical to an EMA copy a hair away: within_tolerance, no ema_match")
    func liveWithinTolerance() throws {
        // The EMA copy differs from the live weights by far less than the F32 tolerance (atol 1e-5).
        let w = try Self.weights { $0 + 1e-7 }
        let b = w.map { SafetensorsWriter.Entry.f32($0.key, $0.shape, $0.ema) }
        let outcome = try Self.diagnose(Self.withEMA(w), b)
        #expect(outcome.analysis?.matches == .tie)
        #expect(outcome.plan.pairs.count == w.count)
        #expect(outcome.result.pairs.allSatisfy { $0.verdict == .withinTolerance || $0.verdict == .identical })
        #expect(outcome.result.pairs.contains { $0.verdict == .withinTolerance })
        #expect(!outcome.result.findings.contains { $0.kind == "ema_weights" })
    }

    @Test("B matching neither copy: drifted, not ema_match")
    func neither() throws {
        let w = try Self.weights { $0 * 0.98 + 0.002 }
        let b = w.map { SafetensorsWriter.Entry.f32($0.key, $0.shape, $0.live.map { $0 * 0.95 - 0.001 }) }
        let outcome = try Self.diagnose(Self.withEMA(w), b)
        #expect(outcome.analysis != nil)
        #expect(outcome.result.pairs.allSatisfy { $0.verdict == .drifted })
        #expect(!outcome.result.findings.contains { $0.kind == "ema_weights" })
    }

    @Test("--ema a with B holding A's live weights: ema_match naming the live key, the other direction")
    func liveUnderSelection() throws {
        let w = try Self.weights { $0 * 0.98 + 0.002 }
        let b = w.map { SafetensorsWriter.Entry.f32($0.key, $0.shape, $0.live) }
        let outcome = try Self.diagnose(Self.withEMA(w), b, selection: .a)
        let analysis = try #require(outcome.analysis)
        #expect(analysis.side == .a && analysis.mainIsEMA)
        let unet = outcome.plan.pairs.indices.filter { outcome.plan.pairs[$0].component == .unet }
        #expect(unet.count == w.count)
        for index in unet {
            let d = outcome.result.pairs[outcome.plan.pairs[index].id]
            #expect(d.verdict == .emaMatch)
            #expect(d.holds.map { name in w.contains { $0.key == name } } == true, "\(d.holds ?? "nil")")
            #expect(d.evidence.contains("without --ema a"))
        }
        #expect(outcome.result.findings.first?.kind == "ema_weights")
    }

    private func writeTemp(_ entries: [SafetensorsWriter.Entry]) throws -> String {
        let path = try Fixtures.temporaryDirectory("ckdiff-emamatch-file").appendingPathComponent("x.safetensors").path
        try SafetensorsWriter.write(entries, to: path)
        return path
    }
}
