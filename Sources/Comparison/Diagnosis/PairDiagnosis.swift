/// The diagnosed verdict of one aligned pair and the evidence for it.
public struct PairDiagnosis: Sendable, Hashable {
    /// The verdict.
    public var verdict: Verdict
    /// One line saying what was checked and found ("B = A rounded to F16 (986 of 986 elements)").
    public var evidence: String
    /// For `scaled`: c in B ≈ c·A.
    public var scale: Double?
    /// For `permuted`: B's row block j holds A's row block `permutation[j]`.
    public var permutation: [Int]?
    /// For `swapped`: the name of A's tensor whose values B's tensor holds. For `ema_match`: the
    /// name of the tensor of the side with the EMA copy that the pair's values match (its EMA copy,
    /// or its live weight under `--ema`).
    public var holds: String?
    /// Set when a known converter convention explains the difference and it is harmless
    /// (for example a `logit_scale` placeholder): the pair then does not count as a difference.
    public var convention: String?
    /// Set when the verdict is an equivalence (an exact cast) but some elements lie outside the
    /// tolerance in force (a fixed `--atol 0 --rtol 0`, say): the pair then counts as a difference.
    public var outsideTolerance = false

    public init(verdict: Verdict, evidence: String, scale: Double? = nil, permutation: [Int]? = nil,
                holds: String? = nil, convention: String? = nil) {
        self.verdict = verdict
        self.evidence = evidence
        self.scale = scale
        self.permutation = permutation
        self.holds = holds
        self.convention = convention
    }

    /// Whether the pair counts as a difference: its verdict does, and no harmless convention explains it.
    public var isDifference: Bool { (verdict.isDifference || outsideTolerance) && convention == nil }
}

/// The bounds diagnosis uses, each with the reason for its value.
///
/// Sums are accumulated in `Double` from `Float` products, so Σa², Σb², Σab agree with
/// an exact computation to about 1e-7 relative (``Numerics``); no threshold below asks
/// for more than 1e-6 relative from them.
public enum DiagnosisThresholds {
    /// `scaled` needs the residual of the best fit b ≈ c·a to be small:
    /// Σ(b − c·a)² = Σb² − c·Σab ≤ `scaleResidual` · Σb², with c = Σab / Σa².
    ///
    /// 1e-4 keeps ‖b − c·a‖ under 1% of ‖b‖: an F16 or BF16 cast of a scaled tensor
    /// (relative residual about 1e-7 and 1e-5) passes, a drifted tensor with cosine below
    /// 0.99995 does not.
    public static let scaleResidual = 1e-4

    /// `scaled` also needs the scaling to explain the difference: (c − 1)²·Σa² ≥
    /// `scaleDominance` · Σ(b − c·a)², i.e. the fit removes at least 99% of Σ(b − a)².
    /// Otherwise c ≈ 1 and the pair is noise or drift, not a scaling.
    public static let scaleDominance = 100.0

    /// |cosine| below which two tensors of `elements` values count as `unrelated`.
    ///
    /// Independent random vectors of n elements have a cosine of mean 0 and standard
    /// deviation 1/√n, so the bound is 3/√n (chance passes it about 0.3% of the time),
    /// but at least 0.05 (large tensors: a correlation under 5% is no relation worth
    /// naming) and at most 0.5 (tiny tensors: anything above is correlated enough to call
    /// drift).
    public static func unrelatedCosine(elements: Int) -> Double {
        guard elements > 0 else { return 0.05 }
        return min(0.5, max(0.05, 3 / Double(elements).squareRoot()))
    }

    /// Follow-up hypotheses (transposed, permuted, swapped) are tried only on pairs with a
    /// cosine below this: above it B is already A plus a small change, which a transpose,
    /// a block permutation or a swap of random-looking weights cannot produce.
    public static let hypothesisCosine = 0.99

    /// Swap candidates: A tensors whose Σa² is within this relative distance of B's Σb²
    /// (|Σa² − Σb²| ≤ 0.02 · max(Σa², Σb²)). An F16 cast moves Σ by at most about 1e-3
    /// relative, BF16 by about 8e-3; 0.02 keeps both with room.
    public static let swapNormDistance = 0.02

    /// At most this many swap candidates are verified per tensor (the nearest Σa² first).
    public static let swapCandidates = 4

    /// At most this many A leftovers of the same shape are compared with each B leftover.
    public static let renameCandidates = 8

    /// At most this many rename candidates in all, whatever their size: the element budget alone
    /// lets a file of many one-element tensors propose millions of comparisons.
    public static let renameProposals = 65_536

    /// The follow-up work, in elements read per side, is bounded by this multiple of the
    /// elements of the pairs that differ, plus ``followUpFloor``; hypotheses beyond it are
    /// skipped with a note. Transposes above ``ComparisonOptions/transposeLimit`` are skipped too.
    public static let followUpFactor = 8
    /// See ``followUpFactor``.
    public static let followUpFloor = 1 << 24

    /// A model whose pairs are more than this share `unrelated` (by parameters) is another
    /// model, and no per-tensor hypotheses are tried on it.
    public static let unrelatedModelShare = 0.5
}
