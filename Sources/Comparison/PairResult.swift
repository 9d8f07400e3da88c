import Checkpoints

/// One pair of an alignment with everything the stages found about it: its comparison, its
/// diagnosis and, when the live-or-EMA question was asked, its EMA entry.
///
/// The record the report is built from; results are attached by ``PairID``, never by a bare
/// position shared between parallel arrays.
public struct PairResult: Sendable {
    /// The pair.
    public let pair: AlignedPair
    /// The first-stage comparison.
    public let comparison: TensorComparison
    /// The second stage's diagnosis, or nil when diagnosis did not run.
    public let diagnosis: PairDiagnosis?
    /// The pair measured against both weights of the tested side, or nil.
    public let ema: EMAAnalysis.Entry?

    /// Every pair of `alignment` with its results, in pair order.
    ///
    /// - Parameters:
    ///   - comparisons: The alignment's comparisons.
    ///   - diagnoses: The alignment's diagnoses, or nil when diagnosis did not run.
    ///   - ema: The live-or-EMA analysis of the alignment, or nil.
    public static func attach(_ alignment: Alignment, comparisons: PairTable<TensorComparison>,
                              diagnoses: PairTable<PairDiagnosis>?, ema: EMAAnalysis?) -> [PairResult] {
        alignment.pairs.map { pair in
            PairResult(pair: pair, comparison: comparisons[pair.id], diagnosis: diagnoses?[pair.id],
                       ema: ema?.entry(for: pair.id))
        }
    }
}
