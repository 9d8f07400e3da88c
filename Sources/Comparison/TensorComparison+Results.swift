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
            castExact = stats.castExact
            castOverflow = stats.castOverflow
            castFlushed = stats.castFlushed
            castNaN = stats.castNaN
            castMismatch = stats.castMismatch
            reverseCastMismatch = stats.reverseCastMismatch
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
