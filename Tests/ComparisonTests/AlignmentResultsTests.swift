import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Safetensors
import Testing

/// The invariants of an owned ``Alignment``: transforms decided once, results filed by pair.
///
/// That a view of B cannot be read in A's checkpoint (or a pair's sides swapped) is a
/// compile-time guarantee of ``TensorRef``'s side tag and is not tested here.
@Suite("Alignment: transforms decided once, results attached to their pairs")
struct AlignmentResultsTests {
    /// Two small checkpoints written to a temporary folder and opened.
    static func open(_ entriesA: [SafetensorsWriter.Entry], _ entriesB: [SafetensorsWriter.Entry]) throws -> (Checkpoint, Checkpoint) {
        let directory = try Fixtures.temporaryDirectory("ckdiff-alignment-results")
        let pathA = directory.appendingPathComponent("a.safetensors").path
        let pathB = directory.appendingPathComponent("b.safetensors").path
        try SafetensorsWriter.write(entriesA, to: pathA)
        try SafetensorsWriter.write(entriesB, to: pathB)
        return (try Checkpoint.open(pathA), try Checkpoint.open(pathB))
    }

    static func values(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { Float($0 % 17) * 0.01 * scale - 0.05 }
    }

    @Test("the alignment decides each transform from the mapping and the shapes; the comparison keeps it")
    func transformsDecidedOnce() throws {
        let (a, b) = try Self.open(
            [.f32("conv", [4, 4, 1, 1], Self.values(16)), .f32("same", [3, 5], Self.values(15)),
             .f32("proj", [2, 3], Self.values(6)), .f32("odd", [6], Self.values(6))],
            [.f32("conv", [4, 4], Self.values(16)), .f32("same", [3, 5], Self.values(15)),
             .f32("proj", [3, 2], Self.values(6)), .f32("odd", [2, 3], Self.values(6))])
        let byName = Alignment.byName(a, b, component: { _ in .other })
        let transforms = Dictionary(uniqueKeysWithValues: byName.pairs.map { ($0.name, $0.transform) })
        #expect(transforms == ["conv": .reshape, "same": .identity, "proj": .identity, "odd": .identity])

        // The mapping's word on a transpose is the pair's transform, whatever the shapes.
        let transposed = Alignment(a: a, b: b, pairs: byName.pairs.map {
            Alignment.Proposal(name: $0.name, component: $0.component, a: $0.a, b: $0.b, transposed: $0.name == "proj")
        }, onlyInA: [], onlyInB: [])
        let comparisons = try Comparator(options: ComparisonOptions(threads: 2)).compare(transposed)
        for pair in transposed.pairs {
            // The engine compares with the transform the alignment decided; it derives none of its own.
            #expect(comparisons[pair.id].transform == pair.transform, "\(pair.name)")
            #expect(comparisons[pair.id].name == pair.name)
        }
        #expect(transposed.pairs.first { $0.name == "proj" }?.transform == .transpose)
        let verdicts = Dictionary(uniqueKeysWithValues: transposed.pairs.map { ($0.name, comparisons[$0.id].verdict) })
        #expect(verdicts["conv"] == .identical && verdicts["same"] == .identical)
        #expect(verdicts["odd"] == .shapeMismatch)
    }

    @Test("results of one alignment are refused by another of a different size")
    func tableOfAnotherAlignment() throws {
        let (a, b) = try Self.open([.f32("x", [8], Self.values(8)), .f32("y", [8], Self.values(8))],
                                   [.f32("x", [8], Self.values(8)), .f32("y", [8], Self.values(8))])
        let both = Alignment.byName(a, b, component: { _ in .other })
        let onlyX = Alignment(a: a, b: b, pairs: Array(both.pairs.prefix(1)).map {
            Alignment.Proposal(name: $0.name, component: $0.component, a: $0.a, b: $0.b)
        }, onlyInA: [], onlyInB: [])
        let options = ComparisonOptions(threads: 2)
        let comparisons = try Comparator(options: options).compare(both)
        #expect(comparisons.count == 2)
        #expect(throws: ComparisonError.self) { try Diagnoser(onlyX, options: options).run(comparisons) }
        #expect(throws: CheckpointError.self) { try onlyX.table(Array(comparisons)) }
    }

    @Test("each pair's comparison, diagnosis and EMA entry are attached to that pair")
    func attachedToPairs() throws {
        // Pairs in an order unlike B's tensor order, with distinct verdicts.
        let x = Self.values(12)
        let (a, b) = try Self.open(
            [.f32("first", [12], x), .f32("second", [12], x), .f32("third", [3, 4], x)],
            [.f32("third", [4, 3], x), .f32("second", [12], x.map { $0 * 3 + 1 }), .f16("first", [12], x)])
        let alignment = Alignment.byName(a, b, component: { _ in .other })
        let options = ComparisonOptions(threads: 2)
        let comparisons = try Comparator(options: options).compare(alignment)
        let diagnosis = try Diagnoser(alignment, options: options).run(comparisons)
        let results = PairResult.attach(alignment, comparisons: comparisons, diagnoses: diagnosis.pairs, ema: nil)
        #expect(results.map(\.pair.name) == ["first", "second", "third"])
        for result in results {
            #expect(result.comparison.name == result.pair.name)
            #expect(result.comparison.aName == alignment.tensor(result.pair.a).name)
            #expect(result.comparison.bName == alignment.tensor(result.pair.b).name)
            #expect(result.ema == nil)
        }
        let verdicts = results.map { $0.diagnosis?.verdict }
        #expect(verdicts[0] == .exactCast || verdicts[0] == .withinTolerance)
        #expect(verdicts[1] != .identical && verdicts[1] != .exactCast && verdicts[1] != nil)
        #expect(verdicts[2] == .transposed || verdicts[2] == .shapeMismatch)
    }
}
