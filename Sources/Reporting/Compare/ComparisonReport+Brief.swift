extension ComparisonReport {
    /// The report in one stable line, for scripts (`--brief`, as `diff -q`).
    ///
    /// `WORD (exit N): A B: aligned …, identical …, within tolerance …, out of tolerance …,
    /// non-finite …, shape mismatch …, only in A … (… weights), only in B … (… weights)`; the
    /// fields and their order do not change between runs or versions without notice. `WORD` is
    /// ``headlineWord``: `EQUIVALENT`, `DIFFERENT`, `WAIVED`, `NO-REGRESSION` or `REGRESSED`.
    public func briefLine() -> String {
        let s = summary
        return "\(headlineWord) (exit \(s.exitCode)): \(inputs.a.path) \(inputs.b.path): aligned \(s.tensorsAligned), "
            + "identical \(s.tensorsIdentical), within tolerance \(s.tensorsWithinTolerance), "
            + "out of tolerance \(s.tensorsOutOfTolerance), non-finite \(s.tensorsNonfinite), "
            + "shape mismatch \(s.tensorsShapeMismatch), only in A \(s.onlyInA) (\(s.onlyInAWeights) weights), "
            + "only in B \(s.onlyInB) (\(s.onlyInBWeights) weights)\n"
    }
}
