/// The second set of jobs behind the question "does B hold A's EMA weights or A's live weights?".
///
/// When exactly one side holds an EMA copy of its UNet (the *tested* side) and the other side
/// has a UNet, the main alignment pairs the other side's UNet with one set of the tested side's
/// weights: the live UNet, or the EMA copy under `--ema` for that side. The counterpart jobs
/// pair the same tensors of the other side with the tested side's *other* set, one job per
/// UNet pair that has one (a partial EMA copy leaves some without). The comparison engine runs
/// them like any jobs; each job's tag is the ``PairID`` of the main pair it shadows.
public struct EMACounterpart: Sendable {
    /// A side of the comparison.
    public enum Side: String, Sendable, Hashable, Codable {
        case a, b
    }

    /// The side whose live and EMA weights are tested against the other side's UNet.
    public let side: Side
    /// Whether the main alignment's UNet pairs read the tested side's EMA copy (`--ema` for that side).
    public let mainIsEMA: Bool
    /// Jobs with the tested side's other weights in place, A still the reference; each tagged
    /// with the main pair it shadows.
    public let jobs: ComparisonJobs<PairID>

    /// The counterpart of `main`, or nil when the question does not arise: both sides or neither
    /// hold an EMA copy, or the side without one has no UNet.
    ///
    /// - Parameters:
    ///   - main: The alignment built with `selection`.
    ///   - selection: Which weights stood for each side's UNet in `main`.
    public static func make(_ main: Alignment, selection: EMASelection) -> EMACounterpart? {
        make(main, schemes: (KeyScheme(main.a), KeyScheme(main.b)), selection: selection)
    }

    /// The counterpart of `main`, with each side's scheme as read from its names (``KeyScheme/init(_:)``,
    /// before any EMA selection) already at hand.
    public static func make(_ main: Alignment, schemes: (a: KeyScheme, b: KeyScheme),
                            selection: EMASelection) -> EMACounterpart? {
        let (schemeA, schemeB) = schemes
        let side: Side
        switch (schemeA.hasEMA, schemeB.hasEMA) {
        case (true, false): side = .a
        case (false, true): side = .b
        default: return nil
        }
        let tested = side == .a ? schemeA : schemeB
        let other = side == .a ? schemeB : schemeA
        guard other.targets.contains(where: { $0.contains { $0.canonical.hasPrefix(KeyScheme.unetFolder) } }) else { return nil }
        let mainIsEMA = side == .a ? selection.usesEMAForA : selection.usesEMAForB
        let (mainFolder, otherFolder) = mainIsEMA ? (KeyScheme.emaFolder, KeyScheme.unetFolder) : (KeyScheme.unetFolder, KeyScheme.emaFolder)

        var byCanonical: [String: (tensor: Int, target: KeyScheme.Target)] = [:]
        for (index, targets) in tested.targets.enumerated() {
            for target in targets where byCanonical[target.canonical] == nil {
                byCanonical[target.canonical] = (index, target)
            }
        }
        var proposals: [(tag: PairID, proposal: Alignment.Proposal)] = []
        for pair in main.pairs where pair.component == .unet {
            let (tensor, rows) = side == .a ? (pair.a.tensor, pair.a.rows) : (pair.b.tensor, pair.b.rows)
            guard tested.targets.indices.contains(tensor),
                  let target = tested.targets[tensor].first(where: { $0.canonical.hasPrefix(mainFolder) && $0.rows == rows }),
                  let counterpart = byCanonical[otherFolder + target.canonical.dropFirst(mainFolder.count)] else { continue }
            let component: Component = mainIsEMA ? .unet : .ema
            let proposal = side == .a
                ? Alignment.Proposal(name: pair.name, component: component,
                                     a: TensorRef(tensor: counterpart.tensor, rows: counterpart.target.rows), b: pair.b)
                : Alignment.Proposal(name: pair.name, component: component,
                                     a: pair.a, b: TensorRef(tensor: counterpart.tensor, rows: counterpart.target.rows))
            proposals.append((pair.id, proposal))
        }
        return EMACounterpart(side: side, mainIsEMA: mainIsEMA, jobs: main.jobs(proposals))
    }
}
