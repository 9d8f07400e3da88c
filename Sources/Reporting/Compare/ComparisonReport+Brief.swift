extension ComparisonReport {
    /// The report in one stable line, for scripts (`--brief`, as `diff -q`).
    ///
    /// `VERDICT (exit N): A B: aligned …, identical …, within tolerance …, out of tolerance …,
    /// non-finite …, shape mismatch …, only in A … (… weights), only in B … (… weights)`; the
    /// fields and their order do not change between runs or versions without notice.
    public func briefLine() -> String {
        let s = summary
        let verdict = s.verdict == .equivalent ? "EQUIVALENT" : "DIFFERENT"
        return "\(verdict) (exit \(s.exitCode)): \(inputs.a.path) \(inputs.b.path): aligned \(s.tensorsAligned), "
            + "identical \(s.tensorsIdentical), within tolerance \(s.tensorsWithinTolerance), "
            + "out of tolerance \(s.tensorsOutOfTolerance), non-finite \(s.tensorsNonfinite), "
            + "shape mismatch \(s.tensorsShapeMismatch), only in A \(s.onlyInA) (\(s.onlyInAWeights) weights), "
            + "only in B \(s.onlyInB) (\(s.onlyInBWeights) weights)\n"
    }
}
