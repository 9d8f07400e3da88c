import Foundation

extension ComparisonReport {
    /// The recorded exit status, after checking that the summary's counts are not negative.
    ///
    /// `summary.exit_code` must be 0, 1 or 2 (``RecordedExitStatus``); the counts of the summary
    /// and of each component must be ≥ 0.
    public func validatedExitStatus() throws(PolicyError) -> RecordedExitStatus {
        let s = summary
        let counts: [(String, Int)] = [
            ("tensors_aligned", s.tensorsAligned), ("tensors_identical", s.tensorsIdentical),
            ("tensors_within_tolerance", s.tensorsWithinTolerance), ("tensors_out_of_tolerance", s.tensorsOutOfTolerance),
            ("tensors_nonfinite", s.tensorsNonfinite), ("tensors_shape_mismatch", s.tensorsShapeMismatch),
            ("tensors_not_compared", s.tensorsNotCompared), ("tensors_dtype_mismatch", s.tensorsDTypeMismatch),
            ("only_in_a", s.onlyInA), ("only_in_b", s.onlyInB), ("only_in_a_weights", s.onlyInAWeights),
            ("only_in_b_weights", s.onlyInBWeights), ("parameters_compared", s.parametersCompared),
            ("bytes_compared", s.bytesCompared), ("renamed", s.renamed),
        ]
        for (name, value) in counts where value < 0 {
            throw PolicyError("summary.\(name) is \(value); a count is never negative")
        }
        for (verdict, value) in s.verdicts where value < 0 {
            throw PolicyError("summary.verdicts.\(verdict) is \(value); a count is never negative")
        }
        for component in components {
            for value in [component.aTensors, component.aParameters, component.bTensors, component.bParameters,
                          component.pairs, component.onlyInA, component.onlyInAParameters, component.onlyInB,
                          component.onlyInBParameters] where value < 0 {
                throw PolicyError("components: a count of '\(component.component)' is \(value); a count is never negative")
            }
        }
        return try RecordedExitStatus(checking: s.exitCode, field: "summary.exit_code")
    }
}
