/// What ckdiff concludes about one aligned pair.
///
/// Each verdict is claimed only after the check that defines it.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Same dtype, same shape, same bytes.
    case identical
    /// Not identical, and every element within the tolerance (a cast, or small noise).
    case withinTolerance = "within_tolerance"
    /// Some finite elements differ beyond the tolerance.
    case outOfTolerance = "out_of_tolerance"
    /// B has NaN or infinities where A is finite.
    case nonfinite
    /// The shapes cannot be lined up.
    case shapeMismatch = "shape_mismatch"
    /// The values could not be compared (dtypes ckdiff does not decode, or a transpose over the limit).
    case notCompared = "not_compared"

    /// Whether this verdict makes the pair a difference under the default policy.
    public var isDifference: Bool {
        switch self {
        case .identical, .withinTolerance: return false
        case .outOfTolerance, .nonfinite, .shapeMismatch, .notCompared: return true
        }
    }
}

extension TensorComparison {
    /// The verdict the statistics support.
    public var verdict: Verdict {
        if identical { return .identical }
        if !valuesCompared { return note == nil ? .shapeMismatch : .notCompared }
        if newNonFinite > 0 { return .nonfinite }
        if mismatched > 0 { return .outOfTolerance }
        return .withinTolerance
    }
}
