import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Reporting
import Safetensors
import Testing

/// The gate outcome is decided once, from the report's facts: the policy, then the baseline.
@Suite("Gate outcome: the policy, then the baseline, decided once")
struct GateOutcomeTests {
    /// A report of two small checkpoints where `drift` differs beyond every default tolerance.
    static func report(policy: Policy? = nil, baseline: (Baseline, path: String)? = nil) throws -> ComparisonReport {
        let directory = try Fixtures.temporaryDirectory("ckdiff-gate-outcome")
        let pathA = directory.appendingPathComponent("a.safetensors").path
        let pathB = directory.appendingPathComponent("b.safetensors").path
        let x = (0..<64).map { Float($0 % 13) * 0.05 - 0.3 }
        try SafetensorsWriter.write([.f32("same", [64], x), .f32("drift", [64], x)], to: pathA)
        try SafetensorsWriter.write([.f32("same", [64], x), .f32("drift", [64], x.map { $0 * 1.5 + 0.1 })], to: pathB)
        let a = try Checkpoint.open(pathA), b = try Checkpoint.open(pathB)
        let alignment = Alignment.byName(a, b, component: { _ in .other })
        let options = ComparisonOptions(threads: 2)
        let comparisons = try Comparator(options: options).compare(alignment)
        let diagnosis = try Diagnoser(alignment, options: options).run(comparisons)
        return ComparisonReport(alignment, identities: (a.identify(), b.identify()), comparisons: comparisons,
                                tolerance: nil, diagnosis: diagnosis, policy: policy, baseline: baseline)
    }

    @Test("the policy decides the verdict and, without a baseline, the exit status")
    func policyAlone() throws {
        let report = try Self.report()
        #expect(report.summary.verdict == .different && report.summary.exitCode == 1)
        #expect(report.gate.mode == .policy && report.gate.failed && !report.gate.triggered.isEmpty)
        #expect(report.baseline == nil)
        #expect(report.tensors.allSatisfy { $0.toleranceRule == "dtype:F32" })

        // A policy that fails on nothing: the same facts, another outcome.
        var lenient = Policy.default
        lenient.failOn = []
        let passing = try Self.report(policy: lenient)
        #expect(passing.summary.verdict == .equivalent && passing.summary.exitCode == 0 && !passing.gate.failed)
        #expect(GateOutcome.decide(report, policy: lenient).exitCode == 0)
    }

    @Test("a baseline of the same facts passes the gate; the policy's verdict and checks stay")
    func baselineAfterPolicy() throws {
        let first = try Self.report()
        let held = try Self.report(baseline: (Baseline(first), "baseline.json"))
        #expect(held.gate.mode == .baseline && !held.gate.failed && held.summary.exitCode == 0)
        #expect(held.summary.verdict == .different)
        #expect(held.gate.triggered == first.gate.triggered)
        #expect(held.baseline?.regressions.isEmpty == true && held.baseline?.path == "baseline.json")

        // The same baseline, decided again from the facts of a report built without it: one function, one answer.
        let outcome = GateOutcome.decide(first, policy: .default, baseline: (Baseline(first), "baseline.json"))
        #expect(outcome.exitCode == 0 && outcome.gate == held.gate && outcome.baseline == held.baseline)
    }
}

/// The typed report model: enums in memory, the same strings in JSON, and every report it writes read back.
@Suite("Report model: typed fields, unchanged JSON")
struct TypedReportTests {
    @Test("a written report decodes to the same typed values and re-encodes to the same bytes")
    func roundTrip() throws {
        let report = try GateOutcomeTests.report()
        let data = try report.jsonData()
        let decoded = try ComparisonReport.decode(data)
        #expect(try decoded.jsonData() == data)
        #expect(decoded.summary.verdict == .different)
        #expect(decoded.tensors.map(\.verdict) == report.tensors.map(\.verdict))
        #expect(decoded.tensors.allSatisfy { $0.component == .other && $0.aDType == .f32 && $0.transform == .identity })
        // Strings only at encoding: the JSON holds the raw values.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"verdict\" : \"different\"") && text.contains("\"a_dtype\" : \"F32\""))
        #expect(text.contains("\"component\" : \"other\""))
    }
}
