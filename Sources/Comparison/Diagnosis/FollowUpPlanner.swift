import Checkpoints
import Safetensors

/// Builds the follow-up plan of hypotheses for ``Diagnoser`` and reads its results back.
struct FollowUpPlanner {
    let a: Checkpoint
    let b: Checkpoint
    let plan: AlignmentPlan
    let first: [TensorComparison]
    let options: ComparisonOptions

    /// What one follow-up pair tests.
    enum Hypothesis {
        /// The pair read in the other orientation.
        case transposed(pair: Int)
        /// B's row block `bBlock` of `blocks` against A's row block `aBlock`.
        case block(pair: Int, blocks: Int, aBlock: Int, bBlock: Int)
        /// B's view of the pair against another A view.
        case swapped(pair: Int, candidate: TensorView)
        /// A leftover of B against a leftover of A (indices into the plan's leftover lists).
        case renamed(aLeftover: Int, bLeftover: Int)
    }

    /// The follow-up pairs and what each tests, in the same order.
    private(set) var pairs: [AlignedPair] = []
    private(set) var hypotheses: [Hypothesis] = []
    /// Hypotheses not tried, by pair, with the reason.
    private(set) var skipped: [Int: String] = [:]
    private(set) var budgetExhausted = false
    /// Elements the follow-ups may read per side.
    private var budget: Int

    init(a: Checkpoint, b: Checkpoint, plan: AlignmentPlan, first: [TensorComparison], options: ComparisonOptions) {
        self.a = a
        self.b = b
        self.plan = plan
        self.first = first
        self.options = options
        let differing = first.reduce(0) { $0 + ($1.verdict == .identical || $1.verdict == .withinTolerance ? 0 : max($1.elementCount, $1.aShape.reduce(1, *))) }
        budget = DiagnosisThresholds.followUpFactor * differing + DiagnosisThresholds.followUpFloor
    }

    /// Takes `elements` from the budget, or notes that it ran out.
    private mutating func spend(_ elements: Int, pair: Int?) -> Bool {
        guard elements <= budget else {
            budgetExhausted = true
            if let pair { skipped[pair] = "some hypotheses not tried: the diagnosis budget ran out" }
            return false
        }
        budget -= elements
        return true
    }

    private mutating func add(_ pair: AlignedPair, _ hypothesis: Hypothesis) {
        pairs.append(pair)
        hypotheses.append(hypothesis)
    }

    /// Adds the transposed, permuted and swapped hypotheses for plan pair `index`.
    mutating func addHypotheses(for index: Int) {
        let pair = plan.pairs[index]
        let c = first[index]
        let elements = c.aShape.reduce(1, *)
        guard elements > 0 else { return }

        // Transposed: the other orientation (for more than 2 dimensions, the first two swapped).
        if c.aShape.count >= 2 {
            var other: PairTransform?
            if c.transform == .transpose && c.aShape == c.bShape {
                other = .identity
            } else if c.transform != .transpose && c.aShape == swappedFirstTwo(c.bShape) {
                other = .transpose
            }
            if let other {
                if other == .transpose && elements > options.transposeLimit {
                    skipped[index] = "transpose not checked: \(elements) elements are above the limit of \(options.transposeLimit)"
                } else if spend(elements, pair: index) {
                    add(AlignedPair(name: pair.name, component: pair.component, a: pair.a, b: pair.b, transform: other),
                        .transposed(pair: index))
                }
            }
        }
        guard c.aShape == c.bShape, c.transform != .transpose, let outer = c.aShape.first else { return }

        // Permuted: row blocks, every B block against every A block.
        for blocks in [3, 2] where outer % blocks == 0 && outer >= blocks {
            guard spend(elements * blocks, pair: index) else { break }
            let height = outer / blocks
            let baseA = pair.a.rows?.lowerBound ?? 0, baseB = pair.b.rows?.lowerBound ?? 0
            for bBlock in 0..<blocks {
                for aBlock in 0..<blocks {
                    let viewA = TensorView(tensor: pair.a.tensor, rows: (baseA + aBlock * height)..<(baseA + (aBlock + 1) * height))
                    let viewB = TensorView(tensor: pair.b.tensor, rows: (baseB + bBlock * height)..<(baseB + (bBlock + 1) * height))
                    add(AlignedPair(name: pair.name, component: pair.component, a: viewA, b: viewB),
                        .block(pair: index, blocks: blocks, aBlock: aBlock, bBlock: bBlock))
                }
            }
        }

        // Swapped: other A views of the same shape, nearest Σa² first.
        guard c.bDType.kind == .floatingPoint, c.sumSquaresB > 0 else { return }
        var known: [(view: TensorView, distance: Double)] = []
        var unknown: [(view: TensorView, order: Int)] = []
        var seen = Set<TensorView>([pair.a])
        for (j, other) in plan.pairs.enumerated() where j != index && seen.insert(other.a).inserted {
            let o = first[j]
            guard o.aShape == c.bShape, o.aDType.kind == .floatingPoint else { continue }
            if o.valuesCompared && !o.identical {
                let distance = abs(o.sumSquaresA - c.sumSquaresB) / max(o.sumSquaresA, c.sumSquaresB)
                if distance <= DiagnosisThresholds.swapNormDistance { known.append((other.a, distance)) }
            } else {
                unknown.append((other.a, abs(j - index)))
            }
        }
        var candidates = known.sorted { $0.distance < $1.distance }.map(\.view)
        if candidates.isEmpty { candidates = unknown.sorted { $0.order < $1.order }.map(\.view) }
        for candidate in candidates.prefix(DiagnosisThresholds.swapCandidates) {
            guard spend(elements, pair: index) else { break }
            add(AlignedPair(name: pair.name, component: pair.component, a: candidate, b: pair.b),
                .swapped(pair: index, candidate: candidate))
        }
    }

    /// Whether a leftover may be a renamed weight (a real gap or an unknown key).
    private static func renameable(_ leftover: Leftover) -> Bool {
        leftover.kind == .weight || leftover.kind == .unknown
    }

    /// Adds, for each unaligned weight of B, the unaligned weights of A with the same squeezed shape.
    mutating func addRenameCandidates() {
        for (jb, lb) in plan.onlyInB.enumerated() where Self.renameable(lb) {
            let tb = b.tensors[lb.tensor].info
            guard tb.elementCount > 0 else { continue }
            var taken = 0
            for (ja, la) in plan.onlyInA.enumerated() where Self.renameable(la) {
                let ta = a.tensors[la.tensor].info
                guard ta.elementCount == tb.elementCount, squeezed(ta.shape) == squeezed(tb.shape),
                      (ta.dtype.kind == .floatingPoint) == (tb.dtype.kind == .floatingPoint) else { continue }
                guard taken < DiagnosisThresholds.renameCandidates, spend(ta.elementCount, pair: nil) else { break }
                taken += 1
                add(AlignedPair(name: b.tensors[lb.tensor].name, component: lb.component,
                                a: TensorView(tensor: la.tensor), b: TensorView(tensor: lb.tensor)),
                    .renamed(aLeftover: ja, bLeftover: jb))
            }
        }
    }

    /// What the follow-up results confirm.
    struct Outcome {
        /// New diagnoses by plan pair index.
        var pairs: [Int: PairDiagnosis] = [:]
        var renamed: [Diagnoser.Rename] = []
    }

    /// Reads the results (one per follow-up pair) back into diagnoses.
    func evaluate(_ results: [TensorComparison]) -> Outcome {
        var outcome = Outcome()
        var swaps: [Int: (candidate: TensorView, result: TensorComparison)] = [:]
        var transposes: [Int: TensorComparison] = [:]
        var renameMatches: [(aLeftover: Int, bLeftover: Int, result: TensorComparison)] = []
        for (hypothesis, result) in zip(hypotheses, results) {
            switch hypothesis {
            case .transposed(let pair):
                if result.valuesMatch { transposes[pair] = result }
            case .block:
                continue
            case .swapped(let pair, let candidate):
                if swaps[pair] == nil && result.valuesMatch { swaps[pair] = (candidate, result) }
            case .renamed(let aLeftover, let bLeftover):
                if result.valuesMatch { renameMatches.append((aLeftover, bLeftover, result)) }
            }
        }
        // Block results per pair and block count (thirds first, then halves).
        var permutations: [Int: (blocks: Int, order: [Int])] = [:]
        var byPairBlocks: [Int: [Int: [[Bool]]]] = [:]
        for (hypothesis, result) in zip(hypotheses, results) {
            guard case .block(let pair, let blocks, let aBlock, let bBlock) = hypothesis else { continue }
            var tables = byPairBlocks[pair] ?? [:]
            var table = tables[blocks] ?? Array(repeating: Array(repeating: false, count: blocks), count: blocks)
            table[bBlock][aBlock] = result.valuesMatch
            tables[blocks] = table
            byPairBlocks[pair] = tables
        }
        for (pair, tables) in byPairBlocks {
            for blocks in [3, 2] {
                guard let table = tables[blocks], let order = Self.permutation(table) else { continue }
                permutations[pair] = (blocks, order)
                break
            }
        }

        for index in plan.pairs.indices {
            let c = first[index]
            if let t = transposes[index] {
                let expected = c.transform == .transpose
                let how = expected
                    ? "B is stored as A's orientation where the mapping expects the transpose"
                    : c.aShape.count == 2 ? "B = Aᵀ" : "B is A with its first two dimensions swapped"
                outcome.pairs[index] = PairDiagnosis(verdict: .transposed,
                                                     evidence: "\(how): read the other way round the values match (\(t.baseDiagnosis(expectedReshape: true).verdict.rawValue))")
            } else if let p = permutations[index] {
                let names = p.blocks == 3 ? ["q", "k", "v"] : ["first half", "second half"]
                let text = p.order.map { names[$0] }.joined(separator: ", ")
                outcome.pairs[index] = PairDiagnosis(verdict: .permuted,
                                                     evidence: "B's \(p.blocks) row blocks hold A's blocks in the order [\(p.order.map(String.init).joined(separator: ", "))] (\(text)) of \(c.aShape.first ?? 0) rows",
                                                     permutation: p.order)
            } else if let s = swaps[index] {
                let source = a.tensors[s.candidate.tensor].name + (s.candidate.rows.map { " rows \($0.lowerBound)..<\($0.upperBound)" } ?? "")
                let sourceName = plan.pairs.first { $0.a == s.candidate }?.name ?? source
                outcome.pairs[index] = PairDiagnosis(verdict: .swapped,
                                                     evidence: "B's \(c.bName) holds A's \(source) (\(s.result.baseDiagnosis(expectedReshape: true).verdict.rawValue))",
                                                     holds: sourceName)
            }
        }

        var usedA = Set<Int>(), usedB = Set<Int>()
        for match in renameMatches where !usedA.contains(match.aLeftover) && !usedB.contains(match.bLeftover) {
            usedA.insert(match.aLeftover)
            usedB.insert(match.bLeftover)
            let la = plan.onlyInA[match.aLeftover], lb = plan.onlyInB[match.bLeftover]
            let diagnosis = match.result.baseDiagnosis(expectedReshape: true)
            outcome.renamed.append(Diagnoser.Rename(a: la.tensor, b: lb.tensor, component: lb.component,
                                                    comparison: match.result, diagnosis: diagnosis))
        }
        outcome.renamed.sort { $0.b < $1.b }
        return outcome
    }

    /// A non-identity assignment of B blocks to A blocks in which every block matches, or nil.
    ///
    /// `match[j][i]` says B's block j matches A's block i. Permutations are tried in
    /// lexicographic order, so the result is the same whatever order the results came in.
    static func permutation(_ match: [[Bool]]) -> [Int]? {
        let n = match.count
        func all(_ prefix: [Int]) -> [[Int]] {
            if prefix.count == n { return [prefix] }
            return (0..<n).filter { !prefix.contains($0) }.flatMap { all(prefix + [$0]) }
        }
        let identity = Array(0..<n)
        for order in all([]) where order != identity {
            if order.enumerated().allSatisfy({ j, i in match[j][i] }) { return order }
        }
        return nil
    }
}
