extension TensorComparison {
    /// Fills the statistics from merged block totals.
    mutating func apply(_ stats: BlockStatistics) {
        valuesCompared = true
        finitePairs = stats.finitePairs
        mismatched = stats.mismatched
        aNaN = stats.aNaN
        aInf = stats.aInf
        bNaN = stats.bNaN
        bInf = stats.bInf
        newNonFinite = stats.newNonFinite
        underflowToZero = stats.underflowToZero
        aBeyondF16 = stats.aBeyondF16
        histogram = stats.histogram
        sumAbsDiff = stats.sumAbs
        sumSquaresA = stats.sumSquaresA
        sumSquaresB = stats.sumSquaresB
        sumProducts = stats.sumProducts
        sumSquaresDiff = stats.sumSquaresDiff
        maxAbs = stats.maxAbs
        maxAbsIndex = stats.maxIndex
        if castTarget != nil {
            var counts = stats.cast
            if castTarget == .f16 && aDType == .f32 && bDType == .f32
                && stats.castAlternative.unexplained < stats.cast.unexplained {
                // A round trip: BF16's grid explains more of B than F16's.
                castTarget = .bf16
                counts = stats.castAlternative
            }
            castExact = counts.exact
            castOverflow = counts.overflow
            castFlushed = counts.flushed
            castNaN = counts.nan
            castMismatch = counts.mismatch
            reverseCastMismatch = counts.reverseMismatch
        }
        finish()
    }

    /// Fills the statistics of a bit-identical pair: every difference is 0.
    mutating func applyIdentical(nan: Int, inf: Int) {
        identical = true
        valuesCompared = tolerance != nil
        aNaN = nan
        bNaN = nan
        aInf = inf
        bInf = inf
        finitePairs = elementCount - nan - inf
        histogram = Array(repeating: 0, count: TensorComparison.histogramBuckets.count)
        histogram[0] = finitePairs
        maxAbs = 0
        maxAbsIndex = nil
        meanAbs = 0
        rmse = 0
        relativeL2 = 0
        cosine = 1
    }
}
