import Checkpoints
import Safetensors

/// The second comparison stage: names the cause of every difference the first stage found.
///
/// From the first-stage results it derives each pair's verdict from its own statistics
/// (``TensorComparison/baseDiagnosis(expectedReshape:)``); with an ``EMAAnalysis``, a UNet pair
/// that does not match but matches the tested side's other weights is `ema_match`
/// (``emaMatch(_:entry:ema:)``). It then derives follow-up jobs of hypotheses for the pairs
/// that still differ from the same ``Alignment`` and runs them through the same
/// ``Comparator`` (streamed, in parallel, deterministic):
/// - **transposed**: a 2-D pair compared the other way round (B against Aᵀ when the alignment read it
///   as is, as is when the alignment expected a transpose), for square tensors that differ and for
///   [m,n] against [n,m] shape mismatches; skipped above ``ComparisonOptions/transposeLimit``;
/// - **permuted**: the outer dimension cut in thirds (when it divides by 3: fused q/k/v) and in
///   halves (when it divides by 2: scale/shift modulation), every block of B against every block
///   of A; a non-identity assignment of matching blocks is the permutation;
/// - **swapped**: A tensors of the same view shape whose Σa² is within
///   ``DiagnosisThresholds/swapNormDistance`` of B's Σb² (at most
///   ``DiagnosisThresholds/swapCandidates``, nearest first; when no candidate's norm is known,
///   the nearest same-shape tensors in pair order), each verified by a full comparison;
/// - **renamed**: each unaligned weight of B against the unaligned weights of A with the same
///   shape once dimensions of size 1 are removed (at most ``DiagnosisThresholds/renameCandidates``).
///
/// A hypothesis is confirmed only by a comparison whose values match (``TensorComparison/valuesMatch``).
/// Hypotheses are tried only on pairs whose cosine is below ``DiagnosisThresholds/hypothesisCosine``,
/// never when more than ``DiagnosisThresholds/unrelatedModelShare`` of the model is unrelated
/// (another model), and within a budget of elements (``DiagnosisThresholds/followUpFactor``).
public struct Diagnoser: Sendable {
    /// The alignment diagnosed (its checkpoints, pairs and leftovers).
    public let alignment: Alignment
    public let options: ComparisonOptions

    public init(_ alignment: Alignment, options: ComparisonOptions = ComparisonOptions()) {
        self.alignment = alignment
        self.options = options
    }

    /// A leftover of B found to hold a leftover of A.
    public struct Rename: Sendable {
        /// A's leftover tensor.
        public var a: TensorRef<SideA>
        /// B's leftover tensor.
        public var b: TensorRef<SideB>
        public var component: Component
        /// The comparison that confirmed it.
        public var comparison: TensorComparison
        /// Its verdict (`identical`, `exact_cast`, `within_tolerance`, …).
        public var diagnosis: PairDiagnosis
    }

    /// What diagnosis found.
    public struct Result: Sendable {
        /// Each pair's diagnosis, filed under its ``PairID``.
        public var pairs: PairTable<PairDiagnosis>
        /// Leftovers matched by content.
        public var renamed: [Rename]
        /// Root causes, most parameters first.
        public var findings: [Finding]
        /// Whether the follow-up budget ran out (some hypotheses were not tried).
        public var budgetExhausted: Bool
    }

    /// Whether a mapping rule explains a reshape between these shapes: the one convention that
    /// drops dimensions of size 1 is a 1×1 convolution stored as a Linear (VAE attention, SD1
    /// `proj_in`/`proj_out`; checkpoint-formats §6.3-§6.4): a 2-D [o, i] against [o, i, 1, 1]
    /// (or [o, i, 1, 1, 1]). Any other removal of size-1 dimensions is unexpected.
    public static func isExpectedReshape(_ x: [Int], _ y: [Int]) -> Bool {
        func convLinear(_ linear: [Int], _ conv: [Int]) -> Bool {
            linear.count == 2 && (conv.count == 4 || conv.count == 5) && Array(conv.prefix(2)) == linear
                && conv.dropFirst(2).allSatisfy { $0 == 1 }
        }
        return convLinear(x, y) || convLinear(y, x)
    }

    /// Runs the second stage on the first stage's results.
    ///
    /// - Parameters:
    ///   - comparisons: The alignment's first-stage comparisons.
    ///   - ema: The live-or-EMA analysis of the same alignment, when one side alone holds an EMA copy:
    ///     a UNet pair that does not match but whose values match the tested side's other weights
    ///     becomes `ema_match` (``emaMatch(_:entry:ema:)``), and no hypothesis is tried on it.
    /// - Throws: ``ComparisonError`` when a follow-up comparison fails, or when `comparisons` is
    ///   not one per pair of the alignment.
    public func run(_ comparisons: PairTable<TensorComparison>, ema: EMAAnalysis? = nil) throws(ComparisonError) -> Result {
        guard comparisons.count == alignment.pairs.count else {
            throw ComparisonError("internal error: \(comparisons.count) comparisons for an alignment of \(alignment.pairs.count) pairs")
        }
        var table = comparisons.mapValues { $0.baseDiagnosis(expectedReshape: Diagnoser.isExpectedReshape($0.aShape, $0.bShape)) }
        if let ema {
            for entry in ema.entries where table.holds(entry.pair) {
                if let match = Diagnoser.emaMatch(table[entry.pair], entry: entry, ema: ema) {
                    table[entry.pair] = match
                }
            }
        }
        // Another model altogether: no per-tensor hypotheses, one finding says it.
        var floatParameters = 0, unrelatedParameters = 0
        for pair in alignment.pairs {
            let c = comparisons[pair.id]
            guard c.valuesCompared && c.bDType.kind == .floatingPoint else { continue }
            floatParameters += c.elementCount
            if table[pair.id].verdict == .unrelated { unrelatedParameters += c.elementCount }
        }
        let anotherModel = floatParameters > 0
            && Double(unrelatedParameters) > DiagnosisThresholds.unrelatedModelShare * Double(floatParameters)

        var planner = FollowUpPlanner(alignment: alignment, first: comparisons, options: options)
        if !anotherModel {
            for pair in alignment.pairs where Diagnoser.wantsHypotheses(comparisons[pair.id], table[pair.id]) {
                planner.addHypotheses(for: pair)
            }
        }
        planner.addRenameCandidates()

        let results = try Comparator(options: options).run(alignment.jobs(planner.proposals))
        let outcome = planner.evaluate(results)
        for (id, diagnosis) in outcome.pairs { table[id] = diagnosis }
        for (id, note) in planner.skipped where table[id].verdict.isDifference && outcome.pairs[id] == nil {
            table[id].evidence += "; \(note)"
        }
        // Root causes read one record per pair: the pair, its comparison and its diagnosis.
        var diagnosed = alignment.pairs.map {
            RootCauses.Diagnosed(pair: $0, first: comparisons[$0.id], diagnosis: table[$0.id])
        }
        RootCauses.recogniseConventions(&diagnosed)
        let findings = RootCauses(alignment: alignment, pairs: diagnosed,
                                  renamed: outcome.renamed, anotherModel: anotherModel, ema: ema).findings()
        return Result(pairs: try alignmentTable(diagnosed.map(\.diagnosis)), renamed: outcome.renamed, findings: findings,
                      budgetExhausted: planner.budgetExhausted)
    }

    /// Values in pair order as a table of the alignment's pairs.
    private func alignmentTable<Value>(_ values: [Value]) throws(ComparisonError) -> PairTable<Value> {
        do { return try alignment.table(values) } catch { throw ComparisonError(error.description) }
    }

    /// The `ema_match` diagnosis of a UNet pair measured against both weights of the tested side,
    /// or nil when it does not apply.
    ///
    /// It applies when the main comparison (the weights `tensors[]` reads) is not a match
    /// (its verdict is neither `identical`, `exact_cast` nor `within_tolerance`) while the
    /// comparison with the tested side's *other* weights is (``TensorComparison/valuesMatch``):
    /// without `--ema`, the other side's tensor holds the EMA copy; under `--ema` for the tested
    /// side, it holds the live weight. The evidence names the matching tensor, how it matches,
    /// the distance to the weights compared, and the `--ema` choice that compares the matching copies.
    static func emaMatch(_ main: PairDiagnosis, entry: EMAAnalysis.Entry, ema: EMAAnalysis) -> PairDiagnosis? {
        switch main.verdict {
        case .identical, .exactCast, .withinTolerance: return nil
        default: break
        }
        let (compared, other) = ema.mainIsEMA ? (entry.ema, entry.live) : (entry.live, entry.ema)
        guard other.valuesMatch else { return nil }
        let how = other.baseDiagnosis(expectedReshape: Diagnoser.isExpectedReshape(other.aShape, other.bShape))
        let tested = ema.side == .a ? "A" : "B", holder = ema.side == .a ? "B" : "A"
        let choice = "--ema \(ema.side.rawValue)"
        let otherName = ema.side == .a ? other.aName : other.bName
        let (otherCopy, comparedCopy) = ema.mainIsEMA ? ("live weight", "EMA copy") : ("EMA copy", "live weight")
        var distance = compared.verdict.rawValue
        if compared.valuesCompared {
            distance = "rel_l2 \(short(compared.relativeL2)), cosine \(short(compared.cosine))"
            if compared.mismatched > 0 {
                distance += ", \(compared.mismatched) of \(compared.elementCount) elements beyond \(compared.tolerance?.description ?? "the tolerance")"
            }
        }
        let advice = ema.mainIsEMA
            ? "without \(choice) the matching copies are compared"
            : "\(choice) compares the matching copies"
        var diagnosis = PairDiagnosis(
            verdict: .emaMatch,
            evidence: "\(holder) holds \(tested)'s \(otherCopy) \(otherName) (\(how.verdict.rawValue)); against \(tested)'s \(comparedCopy): \(distance); \(advice)")
        diagnosis.holds = otherName
        return diagnosis
    }

    /// Whether follow-up hypotheses are worth trying on a pair.
    static func wantsHypotheses(_ c: TensorComparison, _ d: PairDiagnosis) -> Bool {
        switch d.verdict {
        case .shapeMismatch:
            return c.aShape.count >= 2 && c.aShape == swappedFirstTwo(c.bShape)
                || (c.transform == .transpose && c.aShape == c.bShape)
        case .unrelated, .drifted, .outOfTolerance:
            return c.valuesCompared && c.cosine < DiagnosisThresholds.hypothesisCosine
        default:
            return false
        }
    }
}
