import Checkpoints
import Safetensors

extension TensorComparison {
    /// Whether the pair's values agree: identical bytes, every element within the tolerance with
    /// no new non-finite value, or an exact cast in either direction.
    public var valuesMatch: Bool {
        if identical { return true }
        guard valuesCompared else { return false }
        if isExactCast { return true }
        return mismatched == 0 && newNonFinite == 0
    }

    /// Whether the exact-cast check ran and every element is B = A rounded to B's dtype
    /// (``castExact``), or A = B rounded to A's dtype (``reverseCastMismatch`` = 0).
    public var isExactCast: Bool {
        guard castTarget != nil, elementCount > 0 else { return false }
        let forward = castMismatch == 0 && castOverflow == 0 && castFlushed == 0 && castNaN == 0
        return forward || reverseCastMismatch == 0
    }

    /// Whether the exact-cast check ran and every element is an exact cast or one of the
    /// damages a cast produces (overflow to ±Inf, flush to zero, NaN), with at least one damage.
    public var isDamagedCast: Bool {
        guard castTarget != nil, elementCount > 0, !isExactCast else { return false }
        return castMismatch == 0 && castOverflow + castFlushed + castNaN > 0
    }

    /// c in the least-squares fit b ≈ c·a over the finite pairs: Σab / Σa² (nil when Σa² = 0).
    public var scaleFit: Double? {
        sumSquaresA > 0 ? sumProducts / sumSquaresA : nil
    }

    /// Σ(b − c·a)² for the fitted c: Σb² − c·Σab, at least 0.
    public var scaleResidual: Double {
        guard let c = scaleFit else { return sumSquaresB }
        return max(0, sumSquaresB - c * sumProducts)
    }

    /// Whether B ≈ c·A with c ≠ 1 by ``DiagnosisThresholds/scaleResidual`` and ``DiagnosisThresholds/scaleDominance``.
    public var isScaled: Bool {
        guard let c = scaleFit, sumSquaresB > 0, valuesCompared else { return false }
        let residual = scaleResidual
        guard residual <= DiagnosisThresholds.scaleResidual * sumSquaresB else { return false }
        return (c - 1) * (c - 1) * sumSquaresA >= DiagnosisThresholds.scaleDominance * residual && c != 1
    }

    /// The dtypes as "F32→F16".
    var dtypeText: String { aDType == bDType ? aDType.name : "\(aDType.name)→\(bDType.name)" }

    /// The diagnosis the pair's own statistics support, before any follow-up comparison.
    ///
    /// In order, each verdict claimed only when the check before it failed:
    /// identical bytes; shapes that cannot be lined up; values not compared; an integer/float
    /// change with equal values; an exact cast; a damaged cast; NaN/Inf new in B; every element
    /// within tolerance; integer data that differs (`out_of_tolerance`); B all zeros or
    /// |cosine| < ``DiagnosisThresholds/unrelatedCosine(elements:)`` (`unrelated`); a scaling
    /// (``isScaled``); otherwise `drifted`.
    ///
    /// - Parameter expectedReshape: Whether a mapping rule explains a reshape of this pair
    ///   (see ``Diagnoser/isExpectedReshape(_:_:)``); an unexpected one makes an otherwise
    ///   matching pair `reshaped`.
    public func baseDiagnosis(expectedReshape: Bool) -> PairDiagnosis {
        let n = elementCount
        if identical {
            if transform == .reshape && !expectedReshape {
                return PairDiagnosis(verdict: .reshaped, evidence: "same bytes as \(aShape) but stored as \(bShape); no mapping rule expects that reshape")
            }
            return PairDiagnosis(verdict: .identical, evidence: "same dtype, same bytes")
        }
        if !valuesCompared {
            if note == nil {
                return PairDiagnosis(verdict: .shapeMismatch, evidence: "shapes \(aShape) and \(bShape) cannot be lined up")
            }
            return PairDiagnosis(verdict: .notCompared, evidence: note ?? "values not compared")
        }
        var matched: PairDiagnosis?
        if isDTypeClassChange && mismatched == 0 && newNonFinite == 0 {
            matched = PairDiagnosis(verdict: .dtypeClassChange, evidence: "equal values stored as \(aDType.name) in A and \(bDType.name) in B")
        } else if isExactCast, let target = castTarget {
            let forward = castMismatch == 0 && castOverflow == 0 && castFlushed == 0 && castNaN == 0
            let text = forward
                ? "B = A rounded to \(target.name) for all \(n) elements (\(dtypeText))"
                : "A = B rounded to \(aDType.name) for all \(n) elements (\(dtypeText)): B is the wider copy"
            matched = PairDiagnosis(verdict: .exactCast, evidence: text)
            if mismatched > 0 {
                matched?.outsideTolerance = true
                matched?.evidence += ", but \(mismatched) elements lie outside \(tolerance?.description ?? "the tolerance")"
            }
        } else if isDamagedCast, let target = castTarget {
            var parts: [String] = []
            if castOverflow > 0 { parts.append("\(castOverflow) overflowed to ±Inf") }
            if castFlushed > 0 { parts.append("\(castFlushed) flushed to zero") }
            if castNaN > 0 { parts.append("\(castNaN) became NaN") }
            return PairDiagnosis(verdict: .castDamage,
                                 evidence: "B = A rounded to \(target.name) (\(dtypeText)) except: \(parts.joined(separator: ", ")) of \(n) elements")
        } else if newNonFinite > 0 {
            return PairDiagnosis(verdict: .nonfinite,
                                 evidence: "\(newNonFinite) of \(n) elements finite in A are NaN or infinite in B (\(bNaN) NaN, \(bInf) Inf), not a cast overflow")
        } else if mismatched == 0 {
            let cast = castTarget.map { _ in ", not an exact cast (\(castMismatch) elements rounded otherwise)" } ?? ""
            matched = PairDiagnosis(verdict: .withinTolerance,
                                    evidence: "every element within \(tolerance?.description ?? "the tolerance"), max |b − a| \(short(maxAbs))\(cast)")
        }
        if let matched {
            if transform == .reshape && !expectedReshape {
                return PairDiagnosis(verdict: .reshaped,
                                     evidence: "values match (\(matched.verdict.rawValue)) but A \(aShape) is stored as \(bShape); no mapping rule expects that reshape")
            }
            return matched
        }
        let beyond = "\(mismatched) of \(n) elements beyond \(tolerance?.description ?? "the tolerance")"
        guard aDType.kind == .floatingPoint || bDType.kind == .floatingPoint else {
            return PairDiagnosis(verdict: .outOfTolerance, evidence: "\(beyond) (\(dtypeText) data)")
        }
        if sumSquaresB == 0 {
            return PairDiagnosis(verdict: .unrelated, evidence: "B is all zeros; \(beyond)")
        }
        if isScaled, let c = scaleFit {
            let relative = (scaleResidual / sumSquaresB).squareRoot()
            return PairDiagnosis(verdict: .scaled, evidence: "B ≈ \(short(c))·A (residual \(short(relative)) of ‖b‖); \(beyond)", scale: c)
        }
        let bound = DiagnosisThresholds.unrelatedCosine(elements: finitePairs)
        if abs(cosine) < bound {
            return PairDiagnosis(verdict: .unrelated, evidence: "cosine \(short(cosine)) (|cos| < \(short(bound)) for \(finitePairs) elements): no linear relation; \(beyond)")
        }
        return PairDiagnosis(verdict: .drifted, evidence: "correlated (cosine \(short(cosine)), rel_l2 \(short(relativeL2))) but \(beyond), not a cast")
    }
}

/// `value` with 4 significant digits, as people read it ("0.5", "-1.25", "3.142e-05").
func short(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == 0 { return "0" }
    var exponent = 0
    var magnitude = abs(value)
    while magnitude >= 10 { magnitude /= 10; exponent += 1 }
    while magnitude < 1 { magnitude *= 10; exponent -= 1 }
    let mantissa = (magnitude * 1000).rounded() / 1000
    if exponent >= -3 && exponent < 5 {
        var scale = 1.0
        let digits = 3 - exponent
        for _ in 0..<abs(digits) { scale *= 10 }
        let rounded = digits >= 0 ? (value * scale).rounded() / scale : (value / scale).rounded() * scale
        var text = String(describing: Float(rounded))
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
    return "\(value < 0 ? "-" : "")\(String(describing: Float(mantissa)))e\(exponent)"
}
