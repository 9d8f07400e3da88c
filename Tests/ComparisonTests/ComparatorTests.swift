import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Reporting
import Safetensors
import Testing

/// Writes two small checkpoints and runs alignments over them.
private struct Pair {
    var directory: URL
    var a: Checkpoint
    var b: Checkpoint

    init(_ entriesA: [SafetensorsWriter.Entry], _ entriesB: [SafetensorsWriter.Entry]) throws {
        directory = try Fixtures.temporaryDirectory("ckdiff-comparator")
        let pathA = directory.appendingPathComponent("a.safetensors").path
        let pathB = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write(entriesA, to: pathA)
        try SafetensorsWriter.write(entriesB, to: pathB)
        a = try Checkpoint.open(pathA)
        b = try Checkpoint.open(pathB)
    }

    func byName() -> Alignment {
        Alignment.byName(a, b, component: { _ in .other })
    }

    /// An alignment of the two checkpoints with the given pairs and no leftovers.
    func alignment(_ pairs: [Alignment.Proposal]) -> Alignment {
        Alignment(a: a, b: b, pairs: pairs, onlyInA: [], onlyInB: [])
    }

    func index(_ checkpoint: Checkpoint, _ name: String) throws -> Int {
        try #require(checkpoint.tensors.firstIndex { $0.name == name })
    }

    func compare(_ plan: Alignment, threads: Int = 2, unit: Int = 1 << 22) throws -> [TensorComparison] {
        Array(try Comparator(options: ComparisonOptions(threads: threads, unitElements: unit)).compare(plan))
    }
}

@Suite("Comparator")
struct ComparatorTests {
    private func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in rng.normal(0.02) }
    }

    @Test("reports are byte-identical for every thread count")
    func deterministic() throws {
        let x = randomValues(50_000, seed: 1)
        var y = x.map { $0 * 1.0001 }
        y[40_000] = .nan
        let pair = try Pair(
            [.f32("w", [250, 200], x), .f16("h", [50_000], x), .bf16("g", [50_000], x), .f32("same", [100], Array(x.prefix(100)))],
            [.f32("w", [250, 200], y), .f32("h", [50_000], x), .f16("g", [50_000], y), .f32("same", [100], Array(x.prefix(100)))])
        let plan = pair.byName()
        var reports: [Data] = []
        for threads in [1, 2, 3, 7] {
            let results = try Comparator(options: ComparisonOptions(threads: threads, unitElements: 4096)).compare(plan)
            let report = ComparisonReport(plan, identities: (pair.a.identify(), pair.b.identify()),
                                          comparisons: results, tolerance: nil)
            reports.append(try report.jsonData())
        }
        for r in reports.dropFirst() { #expect(r == reports[0]) }
    }

    @Test("byte-identical tensors skip decoding but still count NaN and infinities")
    func identical() throws {
        var x = randomValues(10_000, seed: 2)
        x[10] = .nan
        x[20] = .infinity
        x[30] = -.infinity
        let pair = try Pair([.f32("w", [10_000], x), .bf16("v", [10_000], x), .f16("h", [10_000], x)],
                            [.f32("w", [10_000], x), .bf16("v", [10_000], x), .f16("h", [10_000], x)])
        let results = try pair.compare(pair.byName(), unit: 4096)
        for r in results {
            #expect(r.identical && r.verdict == .identical)
            #expect(r.aNaN == 1 && r.bNaN == 1 && r.aInf == 2 && r.bInf == 2)
            #expect(r.finitePairs == 9_997 && r.histogram[0] == 9_997)
            #expect(r.maxAbs == 0 && r.maxAbsIndex == nil && r.cosine == 1 && r.relativeL2 == 0)
        }
    }

    @Test("a tensor differing in one unit only gets the same statistics as when read in one unit")
    func partlyIdentical() throws {
        let x = randomValues(20_000, seed: 3)
        var y = x
        y[17_500] += 0.5
        let pair = try Pair([.f32("w", [20_000], x)], [.f32("w", [20_000], y)])
        let split = try pair.compare(pair.byName(), unit: 4096)[0]
        let whole = try pair.compare(pair.byName(), unit: 1 << 22)[0]
        #expect(!split.identical)
        #expect(split.maxAbsIndex == 17_500)
        #expect(split.sumSquaresA == whole.sumSquaresA)
        #expect(split.cosine == whole.cosine && split.relativeL2 == whole.relativeL2)
        #expect(split.mismatched == 1 && split.finitePairs == 20_000)
    }

    @Test("statistics match a direct Double computation")
    func againstDirectComputation() throws {
        let x = randomValues(30_000, seed: 4)
        let y = randomValues(30_000, seed: 5).enumerated().map { x[$0.offset] * 0.9 + $0.element * 0.1 }
        let pair = try Pair([.f32("w", [30_000], x)], [.f32("w", [30_000], y)])
        let r = try pair.compare(pair.byName(), unit: 4096)[0]
        var sa = 0.0, sb = 0.0, sab = 0.0, sdd = 0.0, sad = 0.0, maxAbs = 0.0, maxIndex = -1
        for i in 0..<x.count {
            let a = Double(x[i]), b = Double(y[i]), d = b - a
            sa += a * a; sb += b * b; sab += a * b; sdd += d * d; sad += abs(d)
            if abs(d) > maxAbs { maxAbs = abs(d); maxIndex = i }
        }
        func close(_ u: Double, _ v: Double) -> Bool { abs(u - v) <= 1e-6 * max(abs(v), 1e-300) }
        #expect(close(r.cosine, sab / (sa.squareRoot() * sb.squareRoot())))
        #expect(close(r.relativeL2, sdd.squareRoot() / sa.squareRoot()))
        #expect(close(r.rmse, (sdd / 30_000).squareRoot()))
        #expect(close(r.meanAbs, sad / 30_000))
        #expect(close(r.maxAbs, maxAbs) && r.maxAbsIndex == maxIndex)
        #expect(r.verdict == .outOfTolerance)
    }

    @Test("exact-cast evidence: a clean F32→F16 cast, an overflowing one, a drifted one, and the pair given the other way round")
    func castEvidence() throws {
        var x = randomValues(10_000, seed: 9)
        let drift = randomValues(10_000, seed: 10).enumerated().map { x[$0.offset] + $0.element * 0.01 }
        var big = x
        for i in stride(from: 0, to: big.count, by: 1000) { big[i] = 1e5 }   // 10 values past F16's range
        x[17] = 0                                                              // a zero survives any cast
        let pair = try Pair(
            [.f32("clean", [10_000], x), .f32("overflow", [10_000], big), .f32("drift", [10_000], x), .f16("reverse", [10_000], x)],
            [.f16("clean", [10_000], x), .f16("overflow", [10_000], big), .f16("drift", [10_000], drift), .f32("reverse", [10_000], x)])
        let results = try pair.compare(pair.byName(), unit: 4096)
        let r = try ["clean", "overflow", "drift", "reverse"].map { name in try #require(results.first { $0.name == name }) }
        #expect(r[0].castTarget == .f16 && r[0].castExact == 10_000 && r[0].castMismatch == 0)
        #expect(r[1].castOverflow == 10 && r[1].castExact == 9_990 && r[1].castMismatch == 0 && r[1].newNonFinite == 10)
        #expect(r[2].castMismatch > 9_000 && r[2].castExact + r[2].castMismatch + r[2].castFlushed == 10_000)
        // B (F32) holds the original, A its F16 cast: not a cast of A to F32, but A is B rounded to F16.
        #expect(r[3].castTarget == .f32 && r[3].castMismatch > 9_000 && r[3].reverseCastMismatch == 0)
    }

    @Test("exact-cast evidence for an F32 round trip through F16 or BF16, and for a transposed pair")
    func roundTripAndTransposedCasts() throws {
        let x = randomValues(4_096, seed: 21)
        let throughF16 = x.map { Float(Float16($0)) }
        let throughBF16 = x.map { Float(bitPattern: ($0.bitPattern &+ 0x7fff &+ (($0.bitPattern >> 16) & 1)) & 0xffff_0000) }
        // B's projection is A's, transposed and cast to F16.
        let transposedF16 = (0..<4_096).map { k in x[(k % 64) * 64 + k / 64] }
        let pair = try Pair(
            [.f32("f16trip", [4_096], x), .f32("bf16trip", [4_096], x), .f32("noise", [4_096], x), .f32("proj", [64, 64], x)],
            [.f32("f16trip", [4_096], throughF16), .f32("bf16trip", [4_096], throughBF16),
             .f32("noise", [4_096], x.map { $0 * 1.001 }), .f16("proj", [64, 64], transposedF16)])
        let byName = pair.byName()
        #expect(byName.pairs.contains { $0.name == "proj" })
        let plan = pair.alignment(byName.pairs.map {
            Alignment.Proposal(name: $0.name, component: $0.component, a: $0.a, b: $0.b, transposed: $0.name == "proj")
        })
        let results = try pair.compare(plan)
        func result(_ name: String) throws -> TensorComparison { try #require(results.first { $0.name == name }) }
        let f16 = try result("f16trip"), bf16 = try result("bf16trip"), noise = try result("noise"), p = try result("proj")
        #expect(f16.castTarget == .f16 && f16.castExact == 4_096 && f16.castMismatch == 0)
        #expect(bf16.castTarget == .bf16 && bf16.castExact == 4_096 && bf16.castMismatch == 0)
        // Scaled noise is no round trip: no element of B is a rounded A that differs from A.
        #expect(noise.castTarget == nil)
        #expect(p.transform == .transpose && p.castTarget == .f16 && p.castExact == 4_096 && p.castMismatch == 0)
    }

    @Test("transposed pairs line B[j][i] up with A[i][j]")
    func transpose() throws {
        let rows = 3, columns = 5
        let x = (0..<(rows * columns)).map { Float($0) + 1 }
        var xt = [Float](repeating: 0, count: rows * columns)
        for i in 0..<rows { for j in 0..<columns { xt[j * rows + i] = x[i * columns + j] } }
        let pair = try Pair([.f32("p", [rows, columns], x)], [.f32("p", [columns, rows], xt), .f32("q", [rows, columns], x)])
        let ia = try pair.index(pair.a, "p")
        let plan = pair.alignment([
            Alignment.Proposal(name: "p", component: .openCLIP, a: TensorRef(tensor: ia), b: TensorRef(tensor: try pair.index(pair.b, "p")), transposed: true),
            Alignment.Proposal(name: "p-untransposed", component: .openCLIP, a: TensorRef(tensor: ia), b: TensorRef(tensor: try pair.index(pair.b, "q")), transposed: true),
        ])
        let results = try pair.compare(plan)
        #expect(results[0].valuesCompared && results[0].maxAbs == 0 && results[0].mismatched == 0)
        #expect(results[0].verdict == .withinTolerance)
        // [3,5] against [3,5] cannot be a transpose
        #expect(results[1].verdict == .shapeMismatch)
    }

    @Test("row slices of a fused tensor line up with separate tensors")
    func rowSlices() throws {
        let q = randomValues(12, seed: 6), k = randomValues(12, seed: 7), v = randomValues(12, seed: 8)
        let pair = try Pair([.f32("q", [4, 3], q), .f32("k", [4, 3], k), .f32("v", [4, 3], v)],
                            [.f32("in_proj_weight", [12, 3], q + k + v)])
        let fused = try pair.index(pair.b, "in_proj_weight")
        let plan = pair.alignment(try ["q", "k", "v"].enumerated().map { i, name in
            Alignment.Proposal(name: name, component: .openCLIP, a: TensorRef(tensor: try pair.index(pair.a, name)),
                               b: TensorRef(tensor: fused, rows: (4 * i)..<(4 * i + 4)))
        })
        let results = try pair.compare(plan)
        for r in results {
            #expect(r.bShape == [4, 3])
            // same dtype and the same bytes once sliced
            #expect(r.maxAbs == 0 && r.verdict == .identical)
        }
        // the wrong order (k where q belongs) is caught
        let swapped = pair.alignment([Alignment.Proposal(name: "q", component: .openCLIP, a: TensorRef(tensor: try pair.index(pair.a, "q")),
                                                         b: TensorRef(tensor: fused, rows: 4..<8))])
        #expect(try pair.compare(swapped)[0].verdict == .outOfTolerance)
    }

    @Test("size-1 dimensions are a reshape; other shape differences are mismatches")
    func shapes() throws {
        let x = randomValues(16, seed: 9)
        let pair = try Pair([.f32("conv", [4, 4, 1, 1], x), .f32("bad", [4, 4], x)], [.f32("conv", [4, 4], x), .f32("bad", [2, 8], x)])
        let results = try pair.compare(pair.byName())
        let conv = try #require(results.first { $0.name == "conv" })
        let bad = try #require(results.first { $0.name == "bad" })
        #expect(conv.transform == .reshape && conv.verdict == .identical && conv.maxAbs == 0)
        #expect(bad.verdict == .shapeMismatch && bad.elementCount == 0)
        // a value difference behind a reshape is still seen
        var y = x
        y[3] += 1
        let pair2 = try Pair([.f32("conv", [4, 4, 1, 1], x)], [.f32("conv", [4, 4], y)])
        let changed = try pair2.compare(pair2.byName())[0]
        #expect(changed.transform == .reshape && changed.maxAbsIndex == 3 && changed.verdict == .outOfTolerance)
    }

    @Test("integer against float values (position_ids stored as float) compare by value")
    func integerAgainstFloat() throws {
        let ids = (0..<77).map { Int64($0) }
        let pair = try Pair([.i64("position_ids", [1, 77], ids)], [.f32("position_ids", [1, 77], ids.map { Float($0) })])
        let r = try pair.compare(pair.byName())[0]
        #expect(r.isDTypeClassChange && r.mismatched == 0 && r.maxAbs == 0 && r.verdict == .withinTolerance)
        var broken = ids.map { Float($0) }
        broken[5] = 5.5
        let pair2 = try Pair([.i64("position_ids", [1, 77], ids)], [.f32("position_ids", [1, 77], broken)])
        let r2 = try pair2.compare(pair2.byName())[0]
        #expect(r2.mismatched == 1 && r2.maxAbsIndex == 5)
    }

    @Test("a file truncated after its header was read is trouble, not a result")
    func truncatedAfterOpen() throws {
        let x = randomValues(1000, seed: 10)
        let pair = try Pair([.f32("w", [1000], x)], [.f32("w", [1000], x)])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pair.b.path))
        try handle.truncate(atOffset: 100)
        try handle.close()
        #expect(throws: ComparisonError.self) { try pair.compare(pair.byName()) }
    }
}
