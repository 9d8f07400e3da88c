import Foundation
import Checkpoints
import Safetensors

/// The statistics of one aligned pair of tensors, A being the reference.
///
/// Definitions. Both tensors are decoded exactly (to `Float`, or to `Double`
/// when a dtype does not fit in `Float`; see `DType.fitsInFloat`) and lined up
/// element for element by the pair's transform. A pair of elements (aᵢ, bᵢ) is
/// *finite* when both values are finite; let F be the set of finite pairs, n = |F|
/// and dᵢ = bᵢ − aᵢ for i in F (computed in `Float` for `Float` data, so with a
/// relative rounding error of at most 2⁻²⁴). Sums are accumulated in `Double`.
///
/// - ``maxAbs`` = max over F of |dᵢ|; 0 when n = 0.
/// - ``maxAbsIndex`` = the lowest flat (C-order, in A's shape) index where |dᵢ| = maxAbs;
///   nil when maxAbs = 0.
/// - ``meanAbs`` = Σ_F |dᵢ| / n; ``rmse`` = √(Σ_F dᵢ² / n); both 0 when n = 0.
/// - ``relativeL2`` = ‖d‖ / ‖a‖ over F; when ‖a‖ = 0 it is 0 if ‖d‖ = 0 and +∞ otherwise.
/// - ``cosine`` = Σ_F aᵢbᵢ / (‖a‖ ‖b‖) clamped to [-1, 1] (rounding can carry the quotient of equal
///   vectors to 1.0000000000000002); 1 when both norms are 0, 0 when exactly one is.
/// - ``mismatched`` counts every element where (aᵢ, bᵢ) is finite and
///   |dᵢ| > atol + rtol·|aᵢ|, or is not finite and is neither the same infinity
///   on both sides nor NaN on both sides.
/// - ``newNonFinite`` counts aᵢ finite with bᵢ NaN or infinite;
///   ``underflowToZero`` counts aᵢ finite and non-zero with bᵢ = 0;
///   ``aBeyondF16`` counts finite |aᵢ| > 65504 whatever bᵢ is (reported when B is F16).
/// - ``histogram`` counts |dᵢ| over F in 12 buckets: exactly 0, (0, 1e-8],
///   (1e-8, 1e-7], …, (0.1, 1], (1, 10], above 10.
///
/// Bit-identical pairs (same dtype, same bytes) skip decoding: their differences
/// are all 0 and only the non-finite counts are read from the bit patterns.
public struct TensorComparison: Sendable {
    /// The pair as the job gave it.
    public var name: String
    public var component: Component
    public var aName: String
    public var bName: String
    public var aDType: DType
    public var bDType: DType
    /// The shapes of the compared views (a row slice has its own outer dimension).
    public var aShape: [Int]
    public var bShape: [Int]
    public var transform: PairTransform
    /// Elements compared (the view's element count), or 0 when the shapes are incompatible.
    public var elementCount: Int
    /// Same dtype and same bytes, read through the pair's transform (a row slice, or a
    /// reshape that only adds or drops dimensions of size 1).
    public var identical: Bool
    /// The tolerance applied, or nil for dtypes compared bitwise.
    public var tolerance: Tolerance?
    /// Whether the values were compared (false for a shape mismatch or opaque dtypes that differ).
    public var valuesCompared: Bool
    /// Why the values were not compared, when they were not and the shapes alone do not say.
    public var note: String?

    public var maxAbs: Double = 0
    public var maxAbsIndex: Int?
    public var meanAbs: Double = 0
    public var rmse: Double = 0
    public var relativeL2: Double = 0
    public var cosine: Double = 1
    public var mismatched: Int = 0
    public var finitePairs: Int = 0
    public var aNaN: Int = 0
    public var aInf: Int = 0
    public var bNaN: Int = 0
    public var bInf: Int = 0
    public var newNonFinite: Int = 0
    public var underflowToZero: Int = 0
    public var aBeyondF16: Int = 0
    public var histogram: [Int] = Array(repeating: 0, count: TensorComparison.histogramBuckets.count)

    /// Exact-cast evidence: the dtype A's values were rounded to for the check, or nil when no
    /// check was made (same dtypes other than F32, a non-float dtype or F64 on either side).
    ///
    /// For dtypes that differ it is B's dtype. For an F32 pair whose bytes differ it is the
    /// half-precision grid, F16 or BF16, that explains more elements of B: B = F32(r(A)) is A
    /// sent through that dtype and back (``reverseCastMismatch`` then counts a ≠ b); nil when no
    /// element of B is a rounded value of A that differs from A (the round trip would explain nothing).
    ///
    /// Let r(x) be x rounded to ``castTarget`` as an IEEE cast does: round to nearest,
    /// ties to even, ±∞ beyond the largest finite value, NaN kept NaN. Each element falls in exactly
    /// one of these counts:
    /// - ``castExact``: b = r(a) as values (+0 = −0), or both NaN, and not an overflow;
    /// - ``castOverflow``: a finite, b = r(a) = ±∞ (|a| past F16's 65504, say);
    /// - ``castFlushed``: a finite and non-zero, r(a) ≠ 0, b = ±0 (a flush to zero no rounding explains);
    /// - ``castNaN``: b NaN, a not NaN;
    /// - ``castMismatch``: everything else.
    /// ``reverseCastMismatch`` counts elements where a ≠ r′(b), r′ rounding to A's dtype (NaN = NaN):
    /// 0 when A is B cast to A's dtype (the pair given the other way round).
    public var castTarget: DType?
    public var castExact: Int = 0
    public var castOverflow: Int = 0
    public var castFlushed: Int = 0
    public var castNaN: Int = 0
    public var castMismatch: Int = 0
    public var reverseCastMismatch: Int = 0

    /// Sums behind the statistics, kept for later analysis (diagnosis, baselines).
    public var sumSquaresA: Double = 0
    public var sumSquaresB: Double = 0
    public var sumProducts: Double = 0
    public var sumSquaresDiff: Double = 0
    public var sumAbsDiff: Double = 0

    /// The labels of the histogram buckets, in order, spelled from the kernel's edges: `0`, `<=1e-8`,
    /// `<=1e-7`, …, `<=1`, `<=10`, `>10` (these strings are report keys: see docs/report-format.md).
    public static let histogramBuckets: [String] = {
        /// A power of ten as the report spells it: `1e-8` … `1e-1`, `1`, `10`.
        func label(_ edge: Double) -> String {
            edge >= 1 ? String(Int(edge)) : "1e-\(Int((-log10(edge)).rounded()))"
        }
        let edges = Kernels.histogramEdges
        return ["0"] + edges.dropFirst().map { "<=" + label($0) } + [">" + label(edges.last ?? 10)]
    }()

    /// Whether any element is NaN or infinite on either side.
    public var hasNonFinite: Bool { aNaN + aInf + bNaN + bInf > 0 }

    /// Whether the dtypes differ in kind: integer or BOOL on one side, floating point on the other.
    public var isDTypeClassChange: Bool {
        let ka = aDType.kind, kb = bDType.kind
        let numericA = ka == .integer || ka == .boolean, numericB = kb == .integer || kb == .boolean
        return (numericA && kb == .floatingPoint) || (numericB && ka == .floatingPoint)
    }

    /// Fills the derived statistics from the sums and counts.
    mutating func finish() {
        let n = Double(finitePairs)
        meanAbs = finitePairs > 0 ? sumAbsDiff / n : 0
        rmse = finitePairs > 0 ? (sumSquaresDiff / n).squareRoot() : 0
        let normA = sumSquaresA.squareRoot(), normB = sumSquaresB.squareRoot()
        let normD = sumSquaresDiff.squareRoot()
        if normA == 0 {
            relativeL2 = normD == 0 ? 0 : .infinity
        } else {
            relativeL2 = normD / normA
        }
        if normA == 0 && normB == 0 {
            cosine = 1
        } else if normA == 0 || normB == 0 {
            cosine = 0
        } else {
            cosine = min(1, max(-1, sumProducts / (normA * normB)))
        }
        if maxAbs == 0 { maxAbsIndex = nil }
    }
}
