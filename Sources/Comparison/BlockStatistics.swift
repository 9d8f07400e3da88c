import CKDiffShims

/// Running totals for a stretch of aligned elements, merged in a fixed order.
///
/// Counts are exact integers; sums are `Double`. Merging two stretches in order
/// keeps the earlier maximum on ties, so the lowest index wins and the result
/// does not depend on how the work was split across threads.
struct BlockStatistics: Sendable {
    var finitePairs = 0
    var mismatched = 0
    var aNaN = 0
    var aInf = 0
    var bNaN = 0
    var bInf = 0
    var newNonFinite = 0
    var underflowToZero = 0
    var aBeyondF16 = 0
    var histogram = [Int](repeating: 0, count: Int(CKD_HISTOGRAM_BUCKETS))
    var sumAbs: Double = 0
    var sumSquaresA: Double = 0
    var sumSquaresB: Double = 0
    var sumProducts: Double = 0
    var sumSquaresDiff: Double = 0
    /// Largest |b − a| so far and its flat index in the tensor (nil while nothing beat 0).
    var maxAbs: Double = 0
    var maxIndex: Int?
    /// Exact-cast counts (see `TensorComparison.castTarget`): against B's dtype, or for an F32 pair
    /// against the F16 grid (a round trip through F16).
    var cast = CastCounts()
    /// For an F32 pair, the counts against the BF16 grid.
    var castAlternative = CastCounts()

    /// Adds the counts of one kernel call (the maximum is handled by the caller).
    mutating func add(_ s: ckd_block_stats) {
        finitePairs += Int(s.finite_pairs)
        mismatched += Int(s.mismatched)
        aNaN += Int(s.a_nan)
        aInf += Int(s.a_inf)
        bNaN += Int(s.b_nan)
        bInf += Int(s.b_inf)
        newNonFinite += Int(s.new_nonfinite)
        underflowToZero += Int(s.underflow_to_zero)
        aBeyondF16 += Int(s.a_beyond_f16)
        withUnsafeBytes(of: s.histogram) { raw in
            let counts = raw.bindMemory(to: Int64.self)
            for k in 0..<histogram.count { histogram[k] += Int(counts[k]) }
        }
        sumAbs += s.sum_abs
    }

    /// Adds one kernel call's counts, sums and maximum (`base`: the flat index of its first element).
    mutating func add(_ s: ckd_block_stats, base: Int) {
        add(s)
        if s.max_index >= 0 {
            maxAbs = Double(s.max_abs)
            maxIndex = base + Int(s.max_index)
        }
        sumSquaresA += s.sum_aa
        sumSquaresB += s.sum_bb
        sumProducts += s.sum_ab
        sumSquaresDiff += s.sum_dd
    }

    /// Appends a later stretch: sums and counts add, the maximum keeps the earlier index on ties.
    mutating func append(_ later: BlockStatistics) {
        finitePairs += later.finitePairs
        mismatched += later.mismatched
        aNaN += later.aNaN
        aInf += later.aInf
        bNaN += later.bNaN
        bInf += later.bInf
        newNonFinite += later.newNonFinite
        underflowToZero += later.underflowToZero
        aBeyondF16 += later.aBeyondF16
        for k in 0..<histogram.count { histogram[k] += later.histogram[k] }
        sumAbs += later.sumAbs
        sumSquaresA += later.sumSquaresA
        sumSquaresB += later.sumSquaresB
        sumProducts += later.sumProducts
        sumSquaresDiff += later.sumSquaresDiff
        cast.append(later.cast)
        castAlternative.append(later.castAlternative)
        if later.maxAbs > maxAbs, let index = later.maxIndex {
            maxAbs = later.maxAbs
            maxIndex = index
        }
    }
}

/// The counts of the exact-cast check over a stretch (see `TensorComparison.castTarget`).
struct CastCounts: Sendable {
    var exact = 0
    var overflow = 0
    var flushed = 0
    var nan = 0
    var mismatch = 0
    var reverseMismatch = 0

    /// Elements the cast does not explain, damage included.
    var unexplained: Int { overflow + flushed + nan + mismatch }

    mutating func add(_ c: ckd_cast_counts) {
        exact += Int(c.exact)
        overflow += Int(c.overflow)
        flushed += Int(c.flushed)
        nan += Int(c.nan)
        mismatch += Int(c.mismatch)
        reverseMismatch += Int(c.reverse_mismatch)
    }

    mutating func append(_ later: CastCounts) {
        exact += later.exact
        overflow += later.overflow
        flushed += later.flushed
        nan += later.nan
        mismatch += later.mismatch
        reverseMismatch += later.reverseMismatch
    }
}
