import CKDiffTestSupport
import Checkpoints
@testable import Comparison
import Foundation
import Reporting
import Safetensors
import Testing

/// Two generated checkpoints aligned by the real aligner, compared and diagnosed.
private struct Case {
    var a: Checkpoint
    var b: Checkpoint
    var plan: Alignment
    var first: PairTable<TensorComparison>
    var result: Diagnoser.Result
    var report: ComparisonReport

    init(_ entriesA: [SafetensorsWriter.Entry], _ entriesB: [SafetensorsWriter.Entry],
         options: ComparisonOptions = ComparisonOptions(threads: 2)) throws {
        let directory = try Fixtures.temporaryDirectory("ckdiff-diagnosis")
        let pathA = directory.appendingPathComponent("a.safetensors").path
        let pathB = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write(entriesA, to: pathA)
        try SafetensorsWriter.write(entriesB, to: pathB)
        a = try Checkpoint.open(pathA)
        b = try Checkpoint.open(pathB)
        plan = Alignment.aligning(a, b)
        first = try Comparator(options: options).compare(plan)
        result = try Diagnoser(plan, options: options).run(first)
        report = ComparisonReport(plan, identities: (a.identify(), b.identify()), comparisons: first,
                                  tolerance: nil, diagnosis: result)
    }

    /// The diagnosis of the pair named `name`.
    func diagnosis(_ name: String) throws -> PairDiagnosis {
        let pair = try #require(plan.pairs.first { $0.name == name }, "no pair \(name)")
        return result.pairs[pair.id]
    }

    func finding(_ kind: String) -> Finding? {
        result.findings.first { $0.kind == kind }
    }
}

private func random(_ n: Int, seed: UInt64, sigma: Float = 0.02) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in rng.normal(sigma) }
}

/// A row-major matrix transposed.
private func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    var out = [Float](repeating: 0, count: values.count)
    for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = values[i * columns + j] } }
    return out
}

@Suite("Diagnosis: one generated case per verdict")
struct DiagnosisVerdictTests {
    /// An unrelated tensor next to every case, so no case is alone in its checkpoint.
    private let anchor = SafetensorsWriter.Entry.f32("anchor.weight", [64, 16], random(1024, seed: 99))

    @Test("identical bytes: identical, no finding, equivalent")
    func identical() throws {
        let x = random(256, seed: 1)
        let c = try Case([anchor, .f32("w", [16, 16], x)], [anchor, .f32("w", [16, 16], x)])
        #expect(try c.diagnosis("w").verdict == .identical)
        #expect(c.result.findings.isEmpty)
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("B = A rounded to F16: exact_cast with the dtypes, info finding, equivalent")
    func exactCast() throws {
        let x = random(4096, seed: 2)
        let c = try Case([anchor, .f32("w", [64, 64], x)], [.f16("anchor.weight", [64, 16], random(1024, seed: 99)), .f16("w", [64, 64], x)])
        let d = try c.diagnosis("w")
        #expect(d.verdict == .exactCast)
        #expect(d.evidence.contains("F16"))
        #expect(c.finding("component_cast")?.severity == .info)
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("A holds F16 values and B the same values widened to F32: exact_cast (a cast to a wider dtype)")
    func reverseCast() throws {
        let x = random(4096, seed: 3).map { Float(Float16($0)) }
        let c = try Case([anchor, .f16("w", [4096], x)], [anchor, .f32("w", [4096], x)])
        #expect(try c.diagnosis("w").verdict == .exactCast)
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("an F32 value past 65504 saved as F16: cast_damage with the overflow count, not nonfinite")
    func castDamage() throws {
        var x = random(1000, seed: 4)
        x[7] = 70_000
        x[500] = -1e6
        let c = try Case([anchor, .f32("w", [1000], x)], [anchor, .f16("w", [1000], x)])
        let d = try c.diagnosis("w")
        #expect(d.verdict == .castDamage)
        #expect(d.evidence.contains("2 overflowed"))
        #expect(c.finding("cast_damage")?.severity == .error)
        #expect(c.report.summary.exitCode == 1)
    }

    @Test("small noise inside the F32 tolerance: within_tolerance")
    func withinTolerance() throws {
        let x = random(1000, seed: 5)
        let y = x.map { $0 + 1e-7 }
        let c = try Case([anchor, .f32("w", [1000], x)], [anchor, .f32("w", [1000], y)])
        #expect(try c.diagnosis("w").verdict == .withinTolerance)
        #expect(c.report.summary.exitCode == 0)
        #expect(c.result.findings.allSatisfy { $0.severity == .info })
    }

    @Test("B = Aᵀ for a square matrix: transposed")
    func transposedSquare() throws {
        let x = random(32 * 32, seed: 6)
        let c = try Case([anchor, .f32("proj.weight", [32, 32], x)], [anchor, .f32("proj.weight", [32, 32], transposed(x, rows: 32, columns: 32))])
        let d = try c.diagnosis("proj.weight")
        #expect(d.verdict == .transposed)
        #expect(c.finding("transposed")?.tensors == ["proj.weight"])
        #expect(c.report.summary.exitCode == 1)
    }

    @Test("[m,n] stored as [n,m] holding Aᵀ: transposed rather than shape_mismatch")
    func transposedRectangular() throws {
        let x = random(8 * 24, seed: 7)
        let c = try Case([anchor, .f32("fc.weight", [8, 24], x)], [anchor, .f32("fc.weight", [24, 8], transposed(x, rows: 8, columns: 24))])
        #expect(try c.diagnosis("fc.weight").verdict == .transposed)
    }

    @Test("a conv kernel with its output and input channels swapped: transposed, square or not",
          arguments: [(8, 4), (6, 6)])
    func swappedChannels(outputs: Int, inputs: Int) throws {
        let x = random(outputs * inputs * 9, seed: 8)
        // B[j][i][k] = A[i][j][k] for the 3×3 = 9 kernel elements k.
        var y = [Float](repeating: 0, count: x.count)
        for i in 0..<outputs { for j in 0..<inputs { for k in 0..<9 { y[(j * outputs + i) * 9 + k] = x[(i * inputs + j) * 9 + k] } } }
        let c = try Case([anchor, .f32("conv.weight", [outputs, inputs, 3, 3], x)],
                         [anchor, .f32("conv.weight", [inputs, outputs, 3, 3], y)])
        let d = try c.diagnosis("conv.weight")
        #expect(d.verdict == .transposed)
        #expect(d.evidence.contains("first two dimensions swapped"))
        #expect(c.report.summary.exitCode == 1)
    }

    @Test("a transpose above the limit is not tried, and the evidence says so")
    func transposeLimit() throws {
        let x = random(32 * 32, seed: 6)
        let c = try Case([anchor, .f32("proj.weight", [32, 32], x)], [anchor, .f32("proj.weight", [32, 32], transposed(x, rows: 32, columns: 32))],
                         options: ComparisonOptions(threads: 2, transposeLimit: 100))
        let d = try c.diagnosis("proj.weight")
        #expect(d.verdict == .unrelated)
        #expect(d.evidence.contains("above the limit"))
    }

    @Test("[64] stored as [1,64] with the same bytes: reshaped; a 1×1 conv against a Linear is not")
    func reshaped() throws {
        let x = random(64, seed: 8), y = random(64, seed: 9)
        let c = try Case([anchor, .f32("bias", [64], x), .f32("attn.weight", [8, 8], y)],
                         [anchor, .f32("bias", [1, 64], x), .f32("attn.weight", [8, 8, 1, 1], y)])
        #expect(try c.diagnosis("bias").verdict == .reshaped)
        #expect(try c.diagnosis("attn.weight").verdict == .identical)
        #expect(c.finding("reshaped")?.tensors == ["bias"])
        #expect(c.report.summary.exitCode == 1)
    }

    @Test("B = 2.5·A: scaled, with c")
    func scaled() throws {
        let x = random(2048, seed: 10)
        let c = try Case([anchor, .f32("w", [2048], x)], [anchor, .f32("w", [2048], x.map { $0 * 2.5 })])
        let d = try c.diagnosis("w")
        #expect(d.verdict == .scaled)
        let scale = try #require(d.scale)
        #expect(abs(scale - 2.5) < 1e-6)
        #expect(c.finding("scaled")?.message.contains("2.5") == true)
    }

    @Test("q/k/v thirds in another order: permuted, with the order")
    func permutedThirds() throws {
        let rows = 12, columns = 8, h = rows / 3
        let x = random(rows * columns, seed: 11)
        let block = { (i: Int) in Array(x[(i * h * columns)..<((i + 1) * h * columns)]) }
        let y = block(1) + block(0) + block(2)
        let c = try Case([anchor, .f32("attn.in_proj_weight", [rows, columns], x)], [anchor, .f32("attn.in_proj_weight", [rows, columns], y)])
        let d = try c.diagnosis("attn.in_proj_weight")
        #expect(d.verdict == .permuted)
        #expect(d.permutation == [1, 0, 2])
    }

    @Test("scale/shift halves swapped in a modulation bias: permuted [1, 0]")
    func permutedHalves() throws {
        let x = random(40, seed: 12)
        let y = Array(x[20...]) + Array(x[..<20])
        let c = try Case([anchor, .f32("norm_out.linear.bias", [40], x)], [anchor, .f32("norm_out.linear.bias", [40], y)])
        let d = try c.diagnosis("norm_out.linear.bias")
        #expect(d.verdict == .permuted)
        #expect(d.permutation == [1, 0])
    }

    @Test("two same-shape tensors holding each other's values: swapped, each naming the other")
    func swapped() throws {
        let x = random(256, seed: 13), y = random(256, seed: 14)
        let c = try Case([anchor, .f32("a.weight", [32, 8], x), .f32("b.weight", [32, 8], y)],
                         [anchor, .f32("a.weight", [32, 8], y), .f32("b.weight", [32, 8], x)])
        let first = try c.diagnosis("a.weight"), second = try c.diagnosis("b.weight")
        #expect(first.verdict == .swapped && first.holds == "b.weight")
        #expect(second.verdict == .swapped && second.holds == "a.weight")
        #expect(c.result.findings.filter { $0.kind == "swapped" }.count == 2)
    }

    @Test("a NaN in B where A is finite, same dtype: nonfinite")
    func nonfinite() throws {
        let x = random(100, seed: 15)
        var y = x
        y[3] = .nan
        let c = try Case([anchor, .f32("w", [100], x)], [anchor, .f32("w", [100], y)])
        #expect(try c.diagnosis("w").verdict == .nonfinite)
        #expect(c.finding("nonfinite")?.severity == .error)
    }

    @Test("independent random values: unrelated")
    func unrelated() throws {
        let c = try Case([anchor, .f32("w", [4096], random(4096, seed: 16))], [anchor, .f32("w", [4096], random(4096, seed: 17))])
        #expect(try c.diagnosis("w").verdict == .unrelated)
    }

    @Test("A plus 10% noise: drifted")
    func drifted() throws {
        let x = random(4096, seed: 18), noise = random(4096, seed: 19, sigma: 0.002)
        let c = try Case([anchor, .f32("w", [4096], x)], [anchor, .f32("w", [4096], zip(x, noise).map { $0 + $1 })])
        let d = try c.diagnosis("w")
        #expect(d.verdict == .drifted)
        #expect(c.finding("drifted") != nil)
    }

    @Test("[4,5] against [4,6]: shape_mismatch")
    func shapeMismatch() throws {
        let c = try Case([anchor, .f32("w", [4, 5], random(20, seed: 20))], [anchor, .f32("w", [4, 6], random(24, seed: 20))])
        #expect(try c.diagnosis("w").verdict == .shapeMismatch)
        #expect(c.finding("shape_mismatch") != nil)
    }

    @Test("integer position_ids stored as floats with equal values: dtype_class_change, a convention, equivalent")
    func dtypeClassChange() throws {
        let key = "cond_stage_model.transformer.text_model.embeddings.position_ids"
        let c = try Case([anchor, .i64(key, [1, 77], (0..<77).map(Int64.init))], [anchor, .f32(key, [1, 77], (0..<77).map(Float.init))])
        #expect(try c.diagnosis(key).verdict == .dtypeClassChange)
        #expect(c.finding("position_ids_cast")?.severity == .info)
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("the same pair diagnosed with 1 and 3 threads gives the same report bytes")
    func deterministic() throws {
        let x = random(12 * 8, seed: 21), y = random(12 * 8, seed: 22)
        let entriesA: [SafetensorsWriter.Entry] = [anchor, .f32("a.weight", [12, 8], x), .f32("b.weight", [12, 8], y)]
        let entriesB: [SafetensorsWriter.Entry] = [anchor, .f32("a.weight", [12, 8], y), .f32("b.weight", [12, 8], transposed(y, rows: 12, columns: 8))]
        let one = try Case(entriesA, entriesB, options: ComparisonOptions(threads: 1, unitElements: 4096))
        let three = try Case(entriesA, entriesB, options: ComparisonOptions(threads: 3, unitElements: 4096))
        let strip = { (r: ComparisonReport) -> ComparisonReport in
            var r = r
            r.inputs.a.path = ""
            r.inputs.b.path = ""
            return r
        }
        #expect(try strip(one.report).jsonData() == strip(three.report).jsonData())
    }
}

@Suite("Diagnosis: root causes and leftovers")
struct DiagnosisRootCauseTests {
    private let anchor = SafetensorsWriter.Entry.f32("anchor.weight", [64, 16], random(1024, seed: 99))

    @Test("an untransposed text_projection is named as the OneTrainer/kohya convention")
    func textProjection() throws {
        let key = "conditioner.embedders.1.model.text_projection"
        let x = random(32 * 32, seed: 30)
        let c = try Case([anchor, .f32(key, [32, 32], x)], [anchor, .f32(key, [32, 32], transposed(x, rows: 32, columns: 32))])
        let finding = try #require(c.finding("text_projection_orientation"))
        #expect(finding.tensors == [key])
        #expect(finding.message.contains("OneTrainer/kohya"))
        #expect(c.finding("transposed") == nil)
    }

    @Test("logit_scale 1 against ln(100): a placeholder, info, and no difference")
    func logitScale() throws {
        let key = "conditioner.embedders.1.model.logit_scale"
        let c = try Case([anchor, .f32(key, [], [Float(log(100.0))])], [anchor, .f32(key, [], [1])])
        let finding = try #require(c.finding("logit_scale_placeholder"))
        #expect(finding.severity == .info)
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("logit_scale 2 is no known writer value: a difference")
    func logitScaleUnknown() throws {
        let key = "conditioner.embedders.1.model.logit_scale"
        let c = try Case([anchor, .f32(key, [], [Float(log(100.0))])], [anchor, .f32(key, [], [2])])
        #expect(c.finding("logit_scale_placeholder") == nil)
        #expect(c.report.summary.exitCode == 1)
    }

    @Test("schedule buffers and position_ids only in B: info findings, equivalent")
    func conventionsOnlyInB() throws {
        let buffers = ["betas", "alphas_cumprod", "alphas_cumprod_prev"]
        let position = "conditioner.embedders.0.transformer.text_model.embeddings.position_ids"
        let extra: [SafetensorsWriter.Entry] = buffers.map { .f32($0, [1000], random(1000, seed: 31)) }
            + [.i64(position, [1, 77], (0..<77).map(Int64.init))]
        let c = try Case([anchor], [anchor] + extra)
        #expect(c.finding("schedule_buffers")?.tensors.count == 3)
        #expect(c.finding("position_ids_only_in_b")?.severity == .info)
        #expect(c.result.findings.allSatisfy { $0.severity == .info })
        #expect(c.report.summary.exitCode == 0)
    }

    @Test("a weight under an unknown new name: renamed (B's x holds A's y), moved out of the only-in lists")
    func renamed() throws {
        let x = random(48, seed: 32), other = random(48, seed: 33)
        let c = try Case([anchor, .f32("old.name.weight", [6, 8], x), .f32("gone.weight", [6, 8], other)],
                         [anchor, .f16("new.name.weight", [6, 8], x)])
        let rename = try #require(c.result.renamed.first)
        #expect(c.b.tensors[rename.b.tensor].name == "new.name.weight")
        #expect(c.a.tensors[rename.a.tensor].name == "old.name.weight")
        #expect(c.report.renamed.count == 1)
        #expect(c.report.onlyInA.map(\.name) == ["gone.weight"])
        #expect(c.report.onlyInB.isEmpty)
        let finding = try #require(c.finding("renamed"))
        #expect(finding.message.contains("new.name.weight") && finding.message.contains("old.name.weight"))
        #expect(c.finding("missing_weights")?.tensors == ["gone.weight"])
    }

    @Test("findings are ranked by parameters")
    func ranking() throws {
        let big = random(4096, seed: 34), small = random(64, seed: 35)
        let c = try Case([anchor, .f32("big", [4096], big), .f32("small", [64], small)],
                         [anchor, .f32("big", [4096], big.map { $0 * 3 }), .f32("small", [64], small.map { -$0 + 0.5 })])
        let parameters = c.result.findings.map(\.parameters)
        #expect(parameters == parameters.sorted(by: >))
        #expect(c.result.findings.first?.tensors == ["big"])
    }

    @Test("another model: most parameters unrelated gives one finding and no per-tensor hypotheses")
    func anotherModel() throws {
        let c = try Case([.f32("w1", [64, 64], random(4096, seed: 40)), .f32("w2", [64, 64], random(4096, seed: 41))],
                         [.f32("w1", [64, 64], random(4096, seed: 42)), .f32("w2", [64, 64], random(4096, seed: 43))])
        #expect(c.finding("another_model")?.tensors.count == 2)
        #expect(try c.diagnosis("w1").verdict == .unrelated)
    }
}

@Suite("Diagnosis: verdicts from constructed statistics")
struct DiagnosisStatisticsTests {
    private func comparison(_ a: DType = .f32, _ b: DType = .f16, n: Int = 100) -> TensorComparison {
        var c = TensorComparison(name: "w", component: .other, aName: "w", bName: "w", aDType: a, bDType: b,
                                 aShape: [n], bShape: [n], transform: .identity, elementCount: n, identical: false,
                                 tolerance: Tolerance.defaultFor(a, b), valuesCompared: true)
        c.finitePairs = n
        c.sumSquaresA = 1
        c.sumSquaresB = 1
        c.sumProducts = 1
        c.cosine = 1
        return c
    }

    @Test("every element an exact cast: exact_cast naming the target dtype")
    func exact() {
        var c = comparison()
        c.castTarget = .f16
        c.castExact = 100
        c.reverseCastMismatch = 40
        let d = c.baseDiagnosis(expectedReshape: false)
        #expect(d.verdict == .exactCast && d.evidence.contains("F16"))
    }

    @Test("overflow to Inf counted by the cast check: cast_damage even though B has new infinities")
    func damage() {
        var c = comparison()
        c.castTarget = .f16
        c.castExact = 98
        c.castOverflow = 2
        c.reverseCastMismatch = 2
        c.newNonFinite = 2
        c.bInf = 2
        c.mismatched = 2
        let d = c.baseDiagnosis(expectedReshape: false)
        #expect(d.verdict == .castDamage && d.evidence.contains("2 overflowed"))
    }

    @Test("a cast with one element rounded otherwise and an infinity: nonfinite, not cast_damage")
    func notACast() {
        var c = comparison()
        c.castTarget = .f16
        c.castExact = 98
        c.castOverflow = 1
        c.castMismatch = 1
        c.reverseCastMismatch = 2
        c.newNonFinite = 1
        c.mismatched = 2
        #expect(c.baseDiagnosis(expectedReshape: false).verdict == .nonfinite)
    }

    @Test("scaled needs the residual small and the scale to explain it")
    func scaledBounds() {
        var c = comparison(.f32, .f32)
        c.mismatched = 100
        c.sumSquaresA = 1
        c.sumProducts = 2
        c.sumSquaresB = 4
        c.cosine = 1
        #expect(c.baseDiagnosis(expectedReshape: false).verdict == .scaled)
        // cos² = 0.99: residual 1% of Σb², above the 1e-4 bound.
        c.sumSquaresB = 4 / 0.99
        c.cosine = 0.99.squareRoot()
        #expect(c.baseDiagnosis(expectedReshape: false).verdict == .drifted)
    }

    @Test("the unrelated bound follows 3/√n between 0.05 and 0.5")
    func unrelatedBound() {
        #expect(DiagnosisThresholds.unrelatedCosine(elements: 16) == 0.5)
        #expect(DiagnosisThresholds.unrelatedCosine(elements: 900) == 0.1)
        #expect(DiagnosisThresholds.unrelatedCosine(elements: 1_000_000) == 0.05)
    }

    @Test("the expected reshape is a 1×1 convolution against a Linear, nothing else")
    func expectedReshape() {
        #expect(Diagnoser.isExpectedReshape([8, 8], [8, 8, 1, 1]))
        #expect(Diagnoser.isExpectedReshape([8, 4, 1, 1, 1], [8, 4]))
        #expect(!Diagnoser.isExpectedReshape([64], [1, 64]))
        #expect(!Diagnoser.isExpectedReshape([1, 77], [77]))
    }
}
