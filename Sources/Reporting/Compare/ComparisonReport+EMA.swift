import Checkpoints
import Comparison

extension ComparisonReport {
    /// The `ema` section: each side's EMA copy, what is missing, EMA against EMA, and whether
    /// one side's UNet holds the other side's EMA or live weights.
    public struct EMASection: Sendable, Codable {
        /// `--ema`: `none`, `a`, `b` or `both`.
        public var selection: String
        public var a: SideEMA
        public var b: SideEMA
        /// B's EMA tensors with no counterpart in A.
        public var missingInA: Missing
        /// A's EMA tensors with no counterpart in B.
        public var missingInB: Missing
        /// EMA copies compared with EMA copies (both sides hold one and no `--ema`), else nil.
        public var emaVsEMA: EMAVsEMA?
        /// Which of the tested side's weights the other side's UNet holds, when one side alone has EMA.
        public var liveOrEMA: LiveOrEMA?

        enum CodingKeys: String, CodingKey {
            case selection, a, b
            case missingInA = "missing_in_a"
            case missingInB = "missing_in_b"
            case emaVsEMA = "ema_vs_ema"
            case liveOrEMA = "live_or_ema"
        }

        /// The section when nothing is known (no EMA on either side).
        public init() {
            selection = EMASelection.live.rawValue
            a = SideEMA(status: EMACoverage.Status.absent.rawValue, tensors: 0, parameters: 0, unetTensors: 0, standsForUNet: false)
            b = a
            missingInA = Missing()
            missingInB = Missing()
        }

        /// Whether the section makes the checkpoints different under the default policy: EMA
        /// tensors on one side with no counterpart on the other (a missing or partial EMA copy).
        public var isDifference: Bool { missingInA.tensors + missingInB.tensors > 0 }
    }

    /// One side's EMA copy.
    public struct SideEMA: Sendable, Codable {
        /// `present`, `absent` or `partial` (fewer EMA tensors than UNet tensors).
        public var status: String
        /// EMA weight tensors (without the `decay` and `num_updates` scalars).
        public var tensors: Int
        /// Their elements.
        public var parameters: Int
        /// Live UNet tensors they are measured against.
        public var unetTensors: Int
        /// Whether the EMA copy stands for the side's UNet (`--ema`).
        public var standsForUNet: Bool

        enum CodingKeys: String, CodingKey {
            case status, tensors, parameters
            case unetTensors = "unet_tensors"
            case standsForUNet = "stands_for_unet"
        }
    }

    /// EMA leftovers of one side that the other side lacks.
    public struct Missing: Sendable, Codable {
        /// EMA weight tensors.
        public var tensors = 0
        /// Their elements.
        public var parameters = 0
        /// EMA settings tensors (`model_ema.decay`, `model_ema.num_updates`).
        public var settings = 0

        public init() {}
    }

    /// EMA copies against EMA copies.
    public struct EMAVsEMA: Sendable, Codable {
        public var pairs: Int
        public var identical: Int
        /// Pairs `identical` or `within_tolerance`.
        public var withinTolerance: Int
        /// Pairs with any other verdict.
        public var different: Int

        enum CodingKeys: String, CodingKey {
            case pairs, identical
            case withinTolerance = "within_tolerance"
            case different
        }
    }

    /// The answer to "does B hold A's EMA weights or A's live weights?" (or the same with A and B swapped).
    public struct LiveOrEMA: Sendable, Codable {
        /// The side holding the EMA copy, whose live and EMA weights were tested.
        public var testedSide: String
        /// The side whose UNet was measured against both.
        public var otherSide: String
        /// The weights the main comparison (`tensors[]`) read for the tested side: `live` or `ema`.
        public var mainReads: String
        /// UNet tensors measured against both.
        public var tensors: Int
        /// `live`, `ema`, or `tie`: which weights hold more of the parameters closer.
        public var closer: String
        /// `live`, `ema` or `both` when every tensor is identical or within tolerance of those weights; else absent.
        public var matches: String?
        public var live: Tally
        public var ema: Tally
        /// Every measured tensor.
        public var perTensor: [PerTensor]

        enum CodingKeys: String, CodingKey {
            case testedSide = "tested_side"
            case otherSide = "other_side"
            case mainReads = "main_reads"
            case tensors, closer, matches, live, ema
            case perTensor = "per_tensor"
        }
    }

    /// Totals against one of the tested side's weights.
    public struct Tally: Sendable, Codable {
        public var tensorsCloser: Int
        public var parametersCloser: Int
        public var identical: Int
        public var withinTolerance: Int
        public var relL2Mean: ReportNumber
        public var cosineMean: ReportNumber
        public var rmse: ReportNumber

        enum CodingKeys: String, CodingKey {
            case tensorsCloser = "tensors_closer"
            case parametersCloser = "parameters_closer"
            case identical
            case withinTolerance = "within_tolerance"
            case relL2Mean = "rel_l2_mean"
            case cosineMean = "cosine_mean"
            case rmse
        }

        init(_ tally: EMAAnalysis.Tally) {
            tensorsCloser = tally.tensorsCloser
            parametersCloser = tally.parametersCloser
            identical = tally.identical
            withinTolerance = tally.withinTolerance
            relL2Mean = ReportNumber(tally.relativeL2Mean)
            cosineMean = ReportNumber(tally.cosineMean)
            rmse = ReportNumber(tally.rmse)
        }
    }

    /// One tensor measured against both weights.
    public struct PerTensor: Sendable, Codable {
        /// Index into `tensors[]` of the main comparison's pair.
        public var index: Int
        public var name: String
        /// The tested side's live and EMA tensor names.
        public var liveName: String
        public var emaName: String
        public var closer: String
        public var liveVerdict: String
        public var emaVerdict: String
        public var liveRelL2: ReportNumber?
        public var emaRelL2: ReportNumber?
        public var liveCosine: ReportNumber?
        public var emaCosine: ReportNumber?

        enum CodingKeys: String, CodingKey {
            case index, name
            case liveName = "live_name"
            case emaName = "ema_name"
            case closer
            case liveVerdict = "live_verdict"
            case emaVerdict = "ema_verdict"
            case liveRelL2 = "live_rel_l2"
            case emaRelL2 = "ema_rel_l2"
            case liveCosine = "live_cosine"
            case emaCosine = "ema_cosine"
        }
    }
}

extension ComparisonReport.EMASection {
    /// Builds the section from the alignment, its comparisons and the live-or-EMA analysis.
    init(a: (checkpoint: Checkpoint, identity: CheckpointIdentity), b: (checkpoint: Checkpoint, identity: CheckpointIdentity),
         alignment: Alignment, comparisons: [TensorComparison], selection: EMASelection, analysis: EMAAnalysis?) {
        self.init()
        self.selection = selection.rawValue
        self.a = Self.side(a.checkpoint, a.identity, standsForUNet: selection.usesEMAForA)
        self.b = Self.side(b.checkpoint, b.identity, standsForUNet: selection.usesEMAForB)
        missingInA = Self.missing(alignment.onlyInB, b.checkpoint)
        missingInB = Self.missing(alignment.onlyInA, a.checkpoint)
        // EMA weights against EMA weights: the EMA pairs, or under `--ema both` the UNet pairs
        // the EMA copies stand in; the decay and num_updates scalars are not weights.
        let settings: Set<String> = ["model_ema.decay", "model_ema.num_updates"]
        let emaPairs: [TensorComparison]
        switch selection {
        case .live: emaPairs = comparisons.filter { $0.component == .ema && !settings.contains($0.aName) }
        case .both: emaPairs = comparisons.filter { $0.component == .unet }
        case .a, .b: emaPairs = []
        }
        if !emaPairs.isEmpty {
            let identical = emaPairs.filter { $0.verdict == .identical }.count
            let within = emaPairs.filter { !$0.verdict.isDifference }.count
            emaVsEMA = ComparisonReport.EMAVsEMA(pairs: emaPairs.count, identical: identical, withinTolerance: within,
                                                different: emaPairs.count - within)
        }
        if let analysis, !analysis.entries.isEmpty {
            let tested = analysis.side
            func number(_ c: TensorComparison, _ value: Double) -> ReportNumber? {
                (c.identical || c.valuesCompared) ? ReportNumber(value) : nil
            }
            let perTensor = analysis.entries.map { entry in
                ComparisonReport.PerTensor(
                    index: entry.pair.index, name: entry.name,
                    liveName: tested == .a ? entry.live.aName : entry.live.bName,
                    emaName: tested == .a ? entry.ema.aName : entry.ema.bName,
                    closer: entry.closer.rawValue,
                    liveVerdict: entry.live.verdict.rawValue, emaVerdict: entry.ema.verdict.rawValue,
                    liveRelL2: number(entry.live, entry.live.relativeL2), emaRelL2: number(entry.ema, entry.ema.relativeL2),
                    liveCosine: number(entry.live, entry.live.cosine), emaCosine: number(entry.ema, entry.ema.cosine))
            }
            liveOrEMA = ComparisonReport.LiveOrEMA(
                testedSide: tested.rawValue, otherSide: tested == .a ? "b" : "a",
                mainReads: analysis.mainIsEMA ? "ema" : "live", tensors: analysis.entries.count,
                closer: analysis.closer.rawValue,
                matches: analysis.matches.map { $0 == .tie ? "both" : $0.rawValue },
                live: ComparisonReport.Tally(analysis.live), ema: ComparisonReport.Tally(analysis.ema),
                perTensor: perTensor)
        }
    }

    /// Whether a tensor is one of the EMA settings scalars (`model_ema.decay`, `model_ema.num_updates`).
    static func isSetting(_ tensor: Checkpoint.Tensor) -> Bool {
        tensor.folder == nil && (tensor.key == "model_ema.decay" || tensor.key == "model_ema.num_updates")
    }

    /// One side's EMA copy, from its detected components.
    static func side(_ checkpoint: Checkpoint, _ identity: CheckpointIdentity, standsForUNet: Bool) -> ComparisonReport.SideEMA {
        var parameters = 0
        for (tensor, component) in zip(checkpoint.tensors, identity.components) where component == .ema && !isSetting(tensor) {
            parameters += tensor.info.elementCount
        }
        return ComparisonReport.SideEMA(status: identity.ema.status.rawValue, tensors: identity.ema.tensors,
                                        parameters: parameters, unetTensors: identity.ema.unetTensors,
                                        standsForUNet: standsForUNet)
    }

    /// The EMA leftovers (class `ema`) of one side.
    static func missing<Side>(_ leftovers: [Leftover<Side>], _ checkpoint: Checkpoint) -> ComparisonReport.Missing {
        var missing = ComparisonReport.Missing()
        for leftover in leftovers where leftover.kind == .ema {
            let tensor = checkpoint.tensors[leftover.tensor]
            if isSetting(tensor) {
                missing.settings += 1
            } else {
                missing.tensors += 1
                missing.parameters += tensor.info.elementCount
            }
        }
        return missing
    }
}

extension ComparisonReport {
    /// The terminal lines of the `ema` section; none when neither side has an EMA copy.
    func emaLines() -> [String] {
        let e = ema
        guard e.a.status != EMACoverage.Status.absent.rawValue || e.b.status != EMACoverage.Status.absent.rawValue else { return [] }
        func side(_ label: String, _ s: SideEMA) -> String {
            if s.status == EMACoverage.Status.absent.rawValue { return "\(label) absent" }
            return "\(label) \(s.status) (\(s.tensors) tensors for \(s.unetTensors) UNet tensors, \(Self.count(s.parameters)) parameters\(s.standsForUNet ? ", stands for the UNet" : ""))"
        }
        var lines = ["", "EMA: \(side("A", e.a)); \(side("B", e.b))\(e.selection == EMASelection.live.rawValue ? "" : "  [--ema \(e.selection)]")"]
        for (holder, lacking, missing) in [("A", "B", e.missingInB), ("B", "A", e.missingInA)] where missing.tensors + missing.settings > 0 {
            let settings = missing.settings > 0 ? ", \(missing.settings) settings (decay, num_updates)" : ""
            let counts = missing.tensors > 0 ? "a difference" : "not a difference by itself"
            var line = "  missing EMA: \(lacking) lacks \(missing.tensors) of \(holder)'s EMA tensors (\(Self.count(missing.parameters)) parameters)\(settings); \(counts)"
            if missing.tensors > 0 && e.selection == EMASelection.live.rawValue {
                line += " (--ema \(holder.lowercased()) compares \(holder)'s EMA copy in place of its live UNet)"
            }
            lines.append(line)
        }
        if let v = e.emaVsEMA {
            lines.append("  EMA vs EMA: \(v.pairs) pairs, \(v.identical) identical, \(v.withinTolerance - v.identical) within tolerance, \(v.different) different")
        }
        if let q = e.liveOrEMA {
            let tested = q.testedSide.uppercased(), other = q.otherSide.uppercased()
            let answer: String
            switch (q.matches, q.closer) {
            case ("ema"?, _): answer = "\(other) holds \(tested)'s EMA weights (every tensor identical or within tolerance of them)"
            case ("live"?, _): answer = "\(other) holds \(tested)'s live weights (every tensor identical or within tolerance of them)"
            case ("both"?, _): answer = "both: \(tested)'s EMA copy equals its live weights within tolerance, and \(other) matches them"
            case (_, "ema"): answer = "closer to \(tested)'s EMA weights, but not within tolerance of them"
            case (_, "live"): answer = "closer to \(tested)'s live weights, but not within tolerance of them"
            default: answer = "undecided: as many parameters are closer to each"
            }
            lines.append("  does \(other) hold \(tested)'s EMA weights or its live weights? \(answer)")
            var rows = [["", "\(tested) live", "\(tested) EMA"]]
            rows.append(["tensors closer", String(q.live.tensorsCloser), String(q.ema.tensorsCloser)])
            rows.append(["parameters closer", Self.count(q.live.parametersCloser), Self.count(q.ema.parametersCloser)])
            rows.append(["identical", "\(q.live.identical)/\(q.tensors)", "\(q.ema.identical)/\(q.tensors)"])
            rows.append(["within tolerance", "\(q.live.withinTolerance)/\(q.tensors)", "\(q.ema.withinTolerance)/\(q.tensors)"])
            rows.append(["rel_l2 (mean)", Self.number(q.live.relL2Mean), Self.number(q.ema.relL2Mean)])
            rows.append(["cosine (mean)", Self.number(q.live.cosineMean, digits: 6), Self.number(q.ema.cosineMean, digits: 6)])
            rows.append(["rmse", Self.number(q.live.rmse), Self.number(q.ema.rmse)])
            var widths = [0, 0, 0]
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            for row in rows {
                lines.append("    " + row.enumerated().map { i, cell in i == 0 ? cell.padding(widths[i]) : cell.leftPadding(widths[i]) }
                    .joined(separator: "  "))
            }
        }
        return lines
    }

    /// A parameter count for people: 859.5M, 12.3k, 42.
    static func count(_ n: Int) -> String {
        switch n {
        case 1_000_000_000...: return formatSignificant(Double(n) / 1e9, digits: 4) + "G"
        case 1_000_000...: return formatSignificant(Double(n) / 1e6, digits: 4) + "M"
        case 10_000...: return formatSignificant(Double(n) / 1e3, digits: 4) + "k"
        default: return String(n)
        }
    }

    static func number(_ n: ReportNumber, digits: Int = 3) -> String {
        let v = n.value
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return v == 0 ? "0" : formatSignificant(v, digits: digits)
    }
}
