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
    /// Exact-cast counts (see `TensorComparison.castTarget`).
    var castExact = 0
    var castOverflow = 0
    var castFlushed = 0
    var castNaN = 0
    var castMismatch = 0
    var reverseCastMismatch = 0

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

    /// Adds the counts of one cast check.
    mutating func add(_ c: ckd_cast_counts) {
        castExact += Int(c.exact)
        castOverflow += Int(c.overflow)
        castFlushed += Int(c.flushed)
        castNaN += Int(c.nan)
        castMismatch += Int(c.mismatch)
        reverseCastMismatch += Int(c.reverse_mismatch)
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
        castExact += later.castExact
        castOverflow += later.castOverflow
        castFlushed += later.castFlushed
        castNaN += later.castNaN
        castMismatch += later.castMismatch
        reverseCastMismatch += later.reverseCastMismatch
        if later.maxAbs > maxAbs, let index = later.maxIndex {
            maxAbs = later.maxAbs
            maxIndex = index
        }
    }
}
