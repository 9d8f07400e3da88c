import Checkpoints
import Safetensors

/// Builds the follow-up jobs of hypotheses for ``Diagnoser`` and reads their results back.
///
/// Each job is tagged with the hypothesis it tests, so results are read back by tag.
struct FollowUpPlanner {
    let alignment: Alignment
    /// The first-stage comparisons.
    let first: PairTable<TensorComparison>
    let options: ComparisonOptions

    /// What one follow-up pair tests.
    enum Hypothesis: Sendable {
        /// The pair read in the other orientation.
        case transposed(pair: PairID)
        /// B's row block `bBlock` of `blocks` against A's row block `aBlock`.
        case block(pair: PairID, blocks: Int, aBlock: Int, bBlock: Int)
        /// B's view of the pair against another A view.
        case swapped(pair: PairID, candidate: TensorRef<SideA>)
        /// A leftover of B against a leftover of A (indices into the alignment's leftover lists).
        case renamed(aLeftover: Int, bLeftover: Int)
    }

    /// The follow-up pairs, each with what it tests.
    private(set) var proposals: [(tag: Hypothesis, proposal: Alignment.Proposal)] = []
    /// Hypotheses not tried, by pair, with the reason.
    private(set) var skipped: [PairID: String] = [:]
    private(set) var budgetExhausted = false
    /// Elements the follow-ups may read per side.
    private var budget: Int

    init(alignment: Alignment, first: PairTable<TensorComparison>, options: ComparisonOptions) {
        self.alignment = alignment
        self.first = first
        self.options = options
        let differing = first.reduce(0) { $0.addingSaturating($1.verdict == .identical || $1.verdict == .withinTolerance ? 0 : max($1.elementCount, elementCount(of: $1.aShape))) }
        budget = DiagnosisThresholds.followUpFactor * differing + DiagnosisThresholds.followUpFloor
    }

    /// Takes `elements` from the budget, or notes that it ran out.
    private mutating func spend(_ elements: Int, pair: PairID?) -> Bool {
        guard elements <= budget else {
            budgetExhausted = true
            if let pair { skipped[pair] = "some hypotheses not tried: the diagnosis budget ran out" }
            return false
        }
        budget -= elements
        return true
    }

    private mutating func add(_ proposal: Alignment.Proposal, _ hypothesis: Hypothesis) {
        proposals.append((hypothesis, proposal))
    }

    /// Adds the transposed, permuted and swapped hypotheses for `pair`.
    mutating func addHypotheses(for pair: AlignedPair) {
        let index = pair.id
        let c = first[index]
        let elements = elementCount(of: c.aShape)
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
                    add(Alignment.Proposal(name: pair.name, component: pair.component, a: pair.a, b: pair.b,
                                           transposed: other == .transpose),
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
                    let viewA = pair.a.with(rows: (baseA + aBlock * height)..<(baseA + (aBlock + 1) * height))
                    let viewB = pair.b.with(rows: (baseB + bBlock * height)..<(baseB + (bBlock + 1) * height))
                    add(Alignment.Proposal(name: pair.name, component: pair.component, a: viewA, b: viewB),
                        .block(pair: index, blocks: blocks, aBlock: aBlock, bBlock: bBlock))
                }
            }
        }

        // Swapped: other A views of the same shape, nearest Σa² first.
        guard c.bDType.kind == .floatingPoint, c.sumSquaresB > 0 else { return }
        var known: [(view: TensorRef<SideA>, distance: Double)] = []
        var unknown: [(view: TensorRef<SideA>, order: Int)] = []
        var seen = Set<TensorRef<SideA>>([pair.a])
        for other in alignment.pairs where other.id != index && seen.insert(other.a).inserted {
            let o = first[other.id]
            guard o.aShape == c.bShape, o.aDType.kind == .floatingPoint else { continue }
            if o.valuesCompared && !o.identical {
                let distance = abs(o.sumSquaresA - c.sumSquaresB) / max(o.sumSquaresA, c.sumSquaresB)
                if distance <= DiagnosisThresholds.swapNormDistance { known.append((other.a, distance)) }
            } else {
                unknown.append((other.a, abs(other.id.index - index.index)))
            }
        }
        var candidates = known.sorted { $0.distance < $1.distance }.map(\.view)
        if candidates.isEmpty { candidates = unknown.sorted { $0.order < $1.order }.map(\.view) }
        for candidate in candidates.prefix(DiagnosisThresholds.swapCandidates) {
            guard spend(elements, pair: index) else { break }
            add(Alignment.Proposal(name: pair.name, component: pair.component, a: candidate, b: pair.b),
                .swapped(pair: index, candidate: candidate))
        }
    }

    /// Whether a leftover may be a renamed weight (a real gap or an unknown key).
    private static func renameable<Side>(_ leftover: Leftover<Side>) -> Bool {
        leftover.kind == .weight || leftover.kind == .unknown
    }

    /// Adds, for each unaligned weight of B, the unaligned weights of A with the same squeezed shape.
    mutating func addRenameCandidates() {
        // A leftovers indexed by what a rename keeps (elements, squeezed shape, float or not), in
        // their order: each B leftover looks at its own bucket only, not at every A leftover.
        struct Key: Hashable {
            var elements: Int
            var shape: [Int]
            var floatingPoint: Bool
        }
        var candidates: [Key: [Int]] = [:]
        for (ja, la) in alignment.onlyInA.enumerated() where Self.renameable(la) {
            let ta = alignment.tensor(la.ref).info
            candidates[Key(elements: ta.elementCount, shape: squeezed(ta.shape), floatingPoint: ta.dtype.kind == .floatingPoint),
                       default: []].append(ja)
        }
        var proposals = 0
        for (jb, lb) in alignment.onlyInB.enumerated() where Self.renameable(lb) {
            let tb = alignment.tensor(lb.ref).info
            guard tb.elementCount > 0 else { continue }
            let key = Key(elements: tb.elementCount, shape: squeezed(tb.shape), floatingPoint: tb.dtype.kind == .floatingPoint)
            var taken = 0
            for ja in candidates[key] ?? [] {
                let la = alignment.onlyInA[ja]
                let ta = alignment.tensor(la.ref).info
                guard taken < DiagnosisThresholds.renameCandidates, proposals < DiagnosisThresholds.renameProposals,
                      spend(ta.elementCount, pair: nil) else { break }
                taken += 1
                proposals += 1
                add(Alignment.Proposal(name: alignment.tensor(lb.ref).name, component: lb.component, a: la.ref, b: lb.ref),
                    .renamed(aLeftover: ja, bLeftover: jb))
            }
        }
    }

    /// What the follow-up results confirm.
    struct Outcome {
        /// New diagnoses by pair.
        var pairs: [PairID: PairDiagnosis] = [:]
        var renamed: [Diagnoser.Rename] = []
    }

    /// Reads the results (one per follow-up job, tagged with its hypothesis) back into diagnoses.
    func evaluate(_ results: [Compared<Hypothesis>]) -> Outcome {
        var outcome = Outcome()
        var swaps: [PairID: (candidate: TensorRef<SideA>, result: TensorComparison)] = [:]
        var transposes: [PairID: TensorComparison] = [:]
        var renameMatches: [(aLeftover: Int, bLeftover: Int, result: TensorComparison)] = []
        for compared in results {
            let result = compared.comparison
            switch compared.tag {
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
        var permutations: [PairID: (blocks: Int, order: [Int])] = [:]
        var byPairBlocks: [PairID: [Int: [[Bool]]]] = [:]
        for compared in results {
            guard case .block(let pair, let blocks, let aBlock, let bBlock) = compared.tag else { continue }
            let result = compared.comparison
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

        for index in alignment.pairs.map(\.id) {
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
                let source = alignment.tensor(s.candidate).name + (s.candidate.rows.map { " rows \($0.lowerBound)..<\($0.upperBound)" } ?? "")
                let sourceName = alignment.pairs.first { $0.a == s.candidate }?.name ?? source
                outcome.pairs[index] = PairDiagnosis(verdict: .swapped,
                                                     evidence: "B's \(c.bName) holds A's \(source) (\(s.result.baseDiagnosis(expectedReshape: true).verdict.rawValue))",
                                                     holds: sourceName)
            }
        }

        var usedA = Set<Int>(), usedB = Set<Int>()
        for match in renameMatches where !usedA.contains(match.aLeftover) && !usedB.contains(match.bLeftover) {
            usedA.insert(match.aLeftover)
            usedB.insert(match.bLeftover)
            let la = alignment.onlyInA[match.aLeftover], lb = alignment.onlyInB[match.bLeftover]
            let diagnosis = match.result.baseDiagnosis(expectedReshape: true)
            outcome.renamed.append(Diagnoser.Rename(a: la.ref, b: lb.ref, component: lb.component,
                                                    comparison: match.result, diagnosis: diagnosis))
        }
        outcome.renamed.sort { $0.b.tensor < $1.b.tensor }
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
