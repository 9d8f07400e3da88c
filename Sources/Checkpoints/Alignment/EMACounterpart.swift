/// The second plan behind the question "does B hold A's EMA weights or A's live weights?".
///
/// When exactly one side holds an EMA copy of its UNet (the *tested* side) and the other side
/// has a UNet, the main plan pairs the other side's UNet with one set of the tested side's
/// weights: the live UNet, or the EMA copy under `--ema` for that side. The counterpart plan
/// pairs the same tensors of the other side with the tested side's *other* set, one pair per
/// main-plan UNet pair that has one (a partial EMA copy leaves some without). The comparison
/// engine runs it like any plan; ``mainPairs`` ties each pair back to the main plan.
public struct EMACounterpart: Sendable {
    /// A side of the comparison.
    public enum Side: String, Sendable, Hashable, Codable {
        case a, b
    }

    /// The side whose live and EMA weights are tested against the other side's UNet.
    public let side: Side
    /// Whether the main plan's UNet pairs read the tested side's EMA copy (`--ema` for that side).
    public let mainIsEMA: Bool
    /// Pairs with the tested side's other weights in place, A still the reference.
    public let plan: AlignmentPlan
    /// For each pair of ``plan``, the index of the main-plan pair it shadows.
    public let mainPairs: [Int]

    /// The counterpart of `main`, or nil when the question does not arise: both sides or neither
    /// hold an EMA copy, or the side without one has no UNet.
    ///
    /// - Parameters:
    ///   - a, b: The checkpoints `main` was built from.
    ///   - main: The plan built with `selection`.
    ///   - selection: Which weights stood for each side's UNet in `main`.
    public static func make(_ a: Checkpoint, _ b: Checkpoint, main: AlignmentPlan,
                            selection: EMASelection) -> EMACounterpart? {
        make(a, scheme: KeyScheme(a), b, scheme: KeyScheme(b), main: main, selection: selection)
    }

    /// The counterpart of `main`, with each side's scheme as read from its names (``KeyScheme/init(_:)``,
    /// before any EMA selection) already at hand.
    public static func make(_ a: Checkpoint, scheme schemeA: KeyScheme, _ b: Checkpoint, scheme schemeB: KeyScheme,
                            main: AlignmentPlan, selection: EMASelection) -> EMACounterpart? {
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
        let testedCheckpoint = side == .a ? a : b
        var pairs: [AlignedPair] = []
        var mainPairs: [Int] = []
        for (index, pair) in main.pairs.enumerated() where pair.component == .unet {
            let view = side == .a ? pair.a : pair.b
            guard let target = tested.targets[view.tensor].first(where: { $0.canonical.hasPrefix(mainFolder) && $0.rows == view.rows }),
                  let counterpart = byCanonical[otherFolder + target.canonical.dropFirst(mainFolder.count)] else { continue }
            let newView = TensorView(tensor: counterpart.tensor, rows: counterpart.target.rows)
            let (viewA, viewB) = side == .a ? (newView, pair.b) : (pair.a, newView)
            let shapeA = viewShape(side == .a ? testedCheckpoint : a, viewA)
            let shapeB = viewShape(side == .b ? testedCheckpoint : b, viewB)
            pairs.append(AlignedPair(name: pair.name, component: mainIsEMA ? .unet : .ema, a: viewA, b: viewB,
                                     transform: Aligner.shapeTransform(shapeA, shapeB)))
            mainPairs.append(index)
        }
        return EMACounterpart(side: side, mainIsEMA: mainIsEMA,
                              plan: AlignmentPlan(pairs: pairs, onlyInA: [], onlyInB: []), mainPairs: mainPairs)
    }

    /// The shape of a view: the tensor's, with the first dimension cut to the rows taken.
    private static func viewShape(_ checkpoint: Checkpoint, _ view: TensorView) -> [Int] {
        var shape = checkpoint.tensors[view.tensor].info.shape
        if let rows = view.rows, !shape.isEmpty { shape[0] = rows.count }
        return shape
    }
}
