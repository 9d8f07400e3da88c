import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
import Testing

/// The engine's statistics against float64 NumPy values computed independently
/// (`Scripts/expected_stats.py`, committed in `Tests/Fixtures/stats/expected.json`).
@Suite("Statistics agree with float64 NumPy", .serialized)
struct ReferenceStatisticsTests {
    struct Expected {
        var fields: [String: Any]

        func number(_ key: String) -> Double? {
            switch fields[key] {
            case let text as String:
                switch text {
                case "nan": return .nan
                case "inf": return .infinity
                case "-inf": return -.infinity
                default: return Double(text)
                }
            case let value as NSNumber: return value.doubleValue
            default: return nil
            }
        }

        func integer(_ key: String) -> Int? { (fields[key] as? NSNumber)?.intValue }
    }

    nonisolated(unsafe) static let expected: [String: [String: Any]] = {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: Fixtures.path("stats/expected.json"))),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tensors = root["tensors"] as? [String: [String: Any]] else { return [:] }
        return tensors
    }()

    static func run(_ numerics: Numerics) -> [String: TensorComparison] {
        guard let a = try? Checkpoint.open(Fixtures.path("stats/a.safetensors")),
              let b = try? Checkpoint.open(Fixtures.path("stats/b.safetensors")) else { return [:] }
        let plan = Alignment.byName(a, b, component: { _ in .other })
        // Small units so the large tensors are split across units and threads.
        let options = ComparisonOptions(threads: 2, unitElements: 65_536, numerics: numerics)
        guard let results = try? Comparator(options: options).compare(plan) else { return [:] }
        return Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
    }

    static let results: [Numerics: [String: TensorComparison]] = [.fused: run(.fused), .cblas: run(.cblas)]

    @Test("the fixture and its expectations load")
    func loads() {
        #expect(Self.expected.count == 34)
        #expect(Self.results[.fused]?.count == 34)
        #expect(Self.results[.cblas]?.count == 34)
    }

    @Test("every pair, with the fused and the cblas dot products",
          arguments: Self.expected.keys.sorted(), [Numerics.fused, .cblas])
    func pair(name: String, numerics: Numerics) throws {
        let e = Expected(fields: try #require(Self.expected[name]))
        let r = try #require(Self.results[numerics]?[name])
        #expect(r.identical == (e.fields["identical"] as? Bool))
        #expect(r.aDType.name == e.fields["dtype_a"] as? String)
        #expect(r.bDType.name == e.fields["dtype_b"] as? String)
        #expect(r.elementCount == e.integer("n_elements"))
        #expect(r.finitePairs == e.integer("n_finite_pairs"))
        #expect(r.tolerance?.atol == e.number("atol"))
        #expect(r.tolerance?.rtol == e.number("rtol"))
        for (field, value) in [("mismatched", r.mismatched), ("a_nan", r.aNaN), ("a_inf", r.aInf), ("b_nan", r.bNaN),
                               ("b_inf", r.bInf), ("new_nonfinite", r.newNonFinite), ("underflow_to_zero", r.underflowToZero)] {
            #expect(value == e.integer(field), "\(field)")
        }
        if r.bDType == .f16 {
            #expect(r.aBeyondF16 == e.integer("a_beyond_f16"))
        }
        #expect(r.maxAbsIndex == e.integer("max_abs_index"))
        #expect(r.histogram == (e.fields["histogram"] as? [Int]))
        // the oracle keeps float64's quotient (1.0000000000000002 for equal vectors); ckdiff clamps it
        #expect(r.cosine >= -1 && r.cosine <= 1, "cosine \(r.cosine) outside [-1, 1]")
        for (field, value) in [("max_abs", r.maxAbs), ("mean_abs", r.meanAbs), ("rmse", r.rmse),
                               ("rel_l2", r.relativeL2), ("cosine", r.cosine)] {
            let expected = try #require(e.number(field), "\(field)")
            if expected.isInfinite || expected.isNaN {
                #expect(value == expected || (value.isNaN && expected.isNaN), "\(field): \(value) vs \(expected)")
            } else {
                // 1e-6 relative, with an absolute floor for values that are 0 in float64
                #expect(abs(value - expected) <= 1e-6 * abs(expected) + 1e-12, "\(field): \(value) vs \(expected)")
            }
        }
    }
}
