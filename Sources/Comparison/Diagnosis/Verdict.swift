/// What ckdiff concludes about one aligned pair.
///
/// Each verdict is claimed only after the check that defines it (see ``Diagnoser`` and
/// ``DiagnosisThresholds`` for the checks and their bounds). The first comparison stage
/// gives the statistical verdicts (`identical`, `within_tolerance`, `out_of_tolerance`,
/// `nonfinite`, `shape_mismatch`, `not_compared`: ``TensorComparison/verdict``); diagnosis
/// replaces them with the cause it can prove.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Same dtype, same shape, same bytes.
    case identical
    /// B equals A rounded to B's dtype (round to nearest, ties to even), element for element, or A
    /// equals B rounded to A's dtype (a cast to a wider dtype and back).
    case exactCast = "exact_cast"
    /// An exact cast except for elements that overflowed to ±Inf, were flushed to zero or became NaN.
    case castDamage = "cast_damage"
    /// Not explained by a cast, but every element within the tolerance (a cast, or small noise).
    case withinTolerance = "within_tolerance"
    /// B is A transposed (2-D), or A is B transposed where the mapping expected a transpose.
    case transposed
    /// B equals A once dimensions of size 1 are removed, where no mapping rule expected it.
    case reshaped
    /// B ≈ c·A for a constant c ≠ 1.
    case scaled
    /// B is A with blocks of rows reordered (q/k/v thirds, scale/shift halves).
    case permuted
    /// B's tensor holds the values of another tensor of A.
    case swapped
    /// B holds A's EMA copy of this tensor rather than its live weight (or the reverse).
    case emaMatch = "ema_match"
    /// B has NaN or infinities where A is finite, and no cast overflow explains them.
    case nonfinite
    /// No linear relation: |cosine| below ``DiagnosisThresholds/unrelatedCosine(elements:)``.
    case unrelated
    /// Correlated but different beyond casts and tolerance: further training, a merge, another model.
    case drifted
    /// Some elements differ beyond the tolerance and nothing more specific could be said
    /// (integer or BOOL data, or diagnosis did not run).
    case outOfTolerance = "out_of_tolerance"
    /// The shapes cannot be lined up.
    case shapeMismatch = "shape_mismatch"
    /// Integer or BOOL on one side, floating point on the other, with equal values.
    case dtypeClassChange = "dtype_class_change"
    /// The values could not be compared (dtypes ckdiff does not decode, or a transpose over the limit).
    case notCompared = "not_compared"

    /// Whether this verdict makes the pair a difference under the default policy.
    ///
    /// Equivalent: `identical`, `exact_cast`, `within_tolerance`, and `dtype_class_change`
    /// (equal values stored as integers on one side and floats on the other, as a writer that
    /// casts every tensor does to `position_ids`). Everything else is a difference.
    public var isDifference: Bool {
        switch self {
        case .identical, .exactCast, .withinTolerance, .dtypeClassChange: return false
        default: return true
        }
    }
}

extension TensorComparison {
    /// The verdict the first-stage statistics support on their own.
    public var verdict: Verdict {
        if identical { return .identical }
        if !valuesCompared { return note == nil ? .shapeMismatch : .notCompared }
        if newNonFinite > 0 { return .nonfinite }
        if mismatched > 0 { return .outOfTolerance }
        return .withinTolerance
    }
}
