import Checkpoints

/// Whether the other side's UNet holds the tested side's EMA weights or its live weights.
///
/// Built from the main comparison and the comparison of its ``EMACounterpart`` plan, run
/// through the same ``Comparator``: for every main-plan UNet pair that has both, the distance
/// from the other side's tensor to the tested side's live tensor and to its EMA tensor.
/// Per-pair entries are indexed by the main plan's pair index, for diagnosis (`ema_match`).
///
/// Which is closer is decided per tensor by ‖d‖² (the sum of squared differences over finite
/// elements), so both distances are measured against the same tensor of the other side; equal
/// sums (both 0 when the EMA copy equals the live weights) are a tie.
public struct EMAAnalysis: Sendable {
    /// Which of the tested side's weights a tensor is closer to.
    public enum Closer: String, Sendable, Hashable, Codable {
        case live, ema, tie
        /// The values of one or both comparisons could not be compared.
        case undecided
    }

    /// One UNet tensor measured against both weights of the tested side.
    public struct Entry: Sendable {
        /// Index of the pair in the main plan (and in the main comparisons).
        public var pair: Int
        /// The pair's report name.
        public var name: String
        /// The other side's tensor against the tested side's live tensor.
        public var live: TensorComparison
        /// The other side's tensor against the tested side's EMA tensor.
        public var ema: TensorComparison
        /// Which is closer.
        public var closer: Closer
    }

    /// Totals over the entries for one of the tested side's weights.
    public struct Tally: Sendable, Hashable, Codable {
        /// Tensors strictly closer to these weights than to the other ones.
        public var tensorsCloser = 0
        /// Their parameters (elements).
        public var parametersCloser = 0
        /// Pairs with verdict `identical`.
        public var identical = 0
        /// Pairs with verdict `identical` or `within_tolerance`.
        public var withinTolerance = 0
        /// Parameter-weighted mean of the pairs' relative L2 errors (identical pairs count 0).
        public var relativeL2Mean = 0.0
        /// Parameter-weighted mean of the pairs' cosine similarities (identical pairs count 1).
        public var cosineMean = 1.0
        /// √(Σ‖d‖² / Σn) over all finite element pairs of all entries.
        public var rmse = 0.0

        public init() {}
    }

    /// The side whose live and EMA weights were tested (the side holding the EMA copy).
    public let side: EMACounterpart.Side
    /// Whether the main comparison read the tested side's EMA copy (`--ema` for that side).
    public let mainIsEMA: Bool
    /// One entry per main-plan UNet pair with both weights, in main-plan order.
    public let entries: [Entry]
    /// Totals against the live weights.
    public let live: Tally
    /// Totals against the EMA weights.
    public let ema: Tally

    /// Builds the analysis from the main comparisons and the counterpart's comparisons.
    ///
    /// - Parameters:
    ///   - counterpart: The counterpart plan of the main plan.
    ///   - main: One comparison per main-plan pair, in plan order.
    ///   - other: One comparison per counterpart pair, in counterpart-plan order.
    public init(counterpart: EMACounterpart, main: [TensorComparison], other: [TensorComparison]) {
        side = counterpart.side
        mainIsEMA = counterpart.mainIsEMA
        var entries: [Entry] = []
        for (k, index) in counterpart.mainPairs.enumerated() where index < main.count && k < other.count {
            let (live, ema) = counterpart.mainIsEMA ? (other[k], main[index]) : (main[index], other[k])
            entries.append(Entry(pair: index, name: main[index].name, live: live, ema: ema,
                                 closer: EMAAnalysis.closer(live: live, ema: ema)))
        }
        self.entries = entries
        live = EMAAnalysis.tally(entries, closer: .live, \.live)
        ema = EMAAnalysis.tally(entries, closer: .ema, \.ema)
    }

    /// Runs the counterpart plan through the ``Comparator`` and builds the analysis; nil when
    /// the question does not arise (see ``EMACounterpart/make(_:_:main:selection:)``).
    ///
    /// `schemes`, when given, are both sides' schemes as read from their names (``KeyScheme/init(_:)``),
    /// so that they are not read a second time.
    public static func run(a: Checkpoint, b: Checkpoint, main plan: AlignmentPlan, comparisons: [TensorComparison],
                           selection: EMASelection, options: ComparisonOptions, schemes: (a: KeyScheme, b: KeyScheme)? = nil,
                           progress: (@Sendable (Int64, Int64) -> Void)? = nil) throws(ComparisonError) -> EMAAnalysis? {
        let (schemeA, schemeB) = schemes ?? (KeyScheme(a), KeyScheme(b))
        guard let counterpart = EMACounterpart.make(a, scheme: schemeA, b, scheme: schemeB, main: plan, selection: selection),
              !counterpart.mainPairs.isEmpty else { return nil }
        let other = try Comparator(a: a, b: b, plan: counterpart.plan, options: options).run(progress: progress)
        return EMAAnalysis(counterpart: counterpart, main: comparisons, other: other)
    }

    /// The entry of a main-plan pair, if that pair was measured against both weights.
    public func entry(forPair index: Int) -> Entry? {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].pair < index { low = mid + 1 } else { high = mid }
        }
        return low < entries.count && entries[low].pair == index ? entries[low] : nil
    }

    /// Which weights hold more of the compared parameters closer: `live`, `ema`, or `tie` when
    /// as many parameters are closer to each (all of them tied when the EMA copy equals the live weights).
    public var closer: Closer {
        if live.parametersCloser == ema.parametersCloser { return entries.isEmpty ? .undecided : .tie }
        return live.parametersCloser > ema.parametersCloser ? .live : .ema
    }

    /// The weights every entry matches (verdict `identical` or `within_tolerance`): `live`, `ema`,
    /// `tie` when both do, nil when neither does.
    public var matches: Closer? {
        guard !entries.isEmpty else { return nil }
        let liveAll = live.withinTolerance == entries.count, emaAll = ema.withinTolerance == entries.count
        switch (liveAll, emaAll) {
        case (true, true): return .tie
        case (true, false): return .live
        case (false, true): return .ema
        case (false, false): return nil
        }
    }

    /// Per-tensor decision by ‖d‖².
    static func closer(live: TensorComparison, ema: TensorComparison) -> Closer {
        let compared = { (c: TensorComparison) in c.identical || c.valuesCompared }
        guard compared(live), compared(ema) else { return .undecided }
        if live.sumSquaresDiff == ema.sumSquaresDiff { return .tie }
        return live.sumSquaresDiff < ema.sumSquaresDiff ? .live : .ema
    }

    /// Totals of one set of comparisons.
    static func tally(_ entries: [Entry], closer: Closer, _ side: KeyPath<Entry, TensorComparison>) -> Tally {
        var tally = Tally()
        var weight = 0.0, relSum = 0.0, cosSum = 0.0, squares = 0.0, finite = 0.0
        for entry in entries {
            let c = entry[keyPath: side]
            if entry.closer == closer {
                tally.tensorsCloser += 1
                tally.parametersCloser += c.elementCount
            }
            if c.verdict == .identical { tally.identical += 1 }
            if c.verdict == .identical || c.verdict == .withinTolerance { tally.withinTolerance += 1 }
            guard c.identical || c.valuesCompared else { continue }
            let n = Double(c.elementCount)
            weight += n
            relSum += n * c.relativeL2
            cosSum += n * c.cosine
            squares += c.sumSquaresDiff
            finite += Double(c.finitePairs)
        }
        if weight > 0 {
            tally.relativeL2Mean = relSum / weight
            tally.cosineMean = cosSum / weight
        }
        tally.rmse = finite > 0 ? (squares / finite).squareRoot() : 0
        return tally
    }
}
