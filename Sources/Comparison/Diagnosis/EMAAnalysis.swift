import Checkpoints

/// Whether the other side's UNet holds the tested side's EMA weights or its live weights.
///
/// Built from the main comparison and the comparison of its ``EMACounterpart`` jobs, run
/// through the same ``Comparator``: for every UNet pair of the alignment that has both, the
/// distance from the other side's tensor to the tested side's live tensor and to its EMA tensor.
/// Each entry is filed under its pair's ``PairID``, for diagnosis (`ema_match`) and the report.
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
        /// The alignment pair this entry measures.
        public var pair: PairID
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
    /// One entry per UNet pair with both weights, in pair order.
    public let entries: [Entry]
    /// Totals against the live weights.
    public let live: Tally
    /// Totals against the EMA weights.
    public let ema: Tally

    /// Builds the analysis from the main comparisons and the counterpart's comparisons.
    ///
    /// - Parameters:
    ///   - counterpart: The counterpart jobs of the alignment.
    ///   - main: The alignment's comparisons.
    ///   - other: The counterpart jobs' comparisons, each tagged with the pair it shadows.
    public init(counterpart: EMACounterpart, main: PairTable<TensorComparison>, other: [Compared<PairID>]) {
        side = counterpart.side
        mainIsEMA = counterpart.mainIsEMA
        var entries: [Entry] = []
        for result in other where main.holds(result.tag) {
            let shadowed = main[result.tag]
            let (live, ema) = counterpart.mainIsEMA ? (result.comparison, shadowed) : (shadowed, result.comparison)
            entries.append(Entry(pair: result.tag, name: shadowed.name, live: live, ema: ema,
                                 closer: EMAAnalysis.closer(live: live, ema: ema)))
        }
        self.entries = entries.sorted { $0.pair < $1.pair }
        live = EMAAnalysis.tally(entries, closer: .live, \.live)
        ema = EMAAnalysis.tally(entries, closer: .ema, \.ema)
    }

    /// Runs the counterpart jobs through the ``Comparator`` and builds the analysis; nil when
    /// the question does not arise (see ``EMACounterpart/make(_:selection:)``).
    ///
    /// `schemes`, when given, are both sides' schemes as read from their names (``KeyScheme/init(_:)``),
    /// so that they are not read a second time.
    public static func run(_ alignment: Alignment, comparisons: PairTable<TensorComparison>,
                           selection: EMASelection, options: ComparisonOptions, schemes: (a: KeyScheme, b: KeyScheme)? = nil,
                           progress: (@Sendable (Int64, Int64) -> Void)? = nil) throws(ComparisonError) -> EMAAnalysis? {
        let schemes = schemes ?? (KeyScheme(alignment.a), KeyScheme(alignment.b))
        guard let counterpart = EMACounterpart.make(alignment, schemes: schemes, selection: selection),
              !counterpart.jobs.jobs.isEmpty else { return nil }
        let other = try Comparator(options: options).run(counterpart.jobs, progress: progress)
        return EMAAnalysis(counterpart: counterpart, main: comparisons, other: other)
    }

    /// The entry of a pair, if that pair was measured against both weights.
    public func entry(for pair: PairID) -> Entry? {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].pair < pair { low = mid + 1 } else { high = mid }
        }
        return low < entries.count && entries[low].pair == pair ? entries[low] : nil
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
