/// Builds an ``Alignment`` of two checkpoints in any layouts.
///
/// Each side's tensors are resolved to canonical keys (``KeyScheme``) and paired by
/// canonical key: row slices for OpenCLIP's fused q/k/v, a transpose where one side's
/// `text_projection` is OpenCLIP's (the diffusers/ComfyUI convention; whether the
/// values actually follow it is for the comparison to find), a reshape where the
/// shapes differ only by dimensions of size 1. Tensors no mapping knows are then
/// paired by exact name, so two checkpoints in the same layout pair by name whatever
/// their architecture. When both sides hold the same fused tensor, its three slices
/// fold back into one pair. Pairs come in A's tensor order; a pair is named by the
/// tensor name when both sides use the same one, else by the canonical key.
public struct Aligner: Sendable {
    /// The reference side.
    public let a: Checkpoint
    /// The other side.
    public let b: Checkpoint
    /// A's scheme.
    public let schemeA: KeyScheme
    /// B's scheme.
    public let schemeB: KeyScheme

    /// Prepares to align `a` with `b`, reading both schemes from the tensor names and shapes.
    public init(_ a: Checkpoint, _ b: Checkpoint) {
        self.init(a, scheme: KeyScheme(a), b, scheme: KeyScheme(b))
    }

    /// Prepares to align `a` with `b` through given schemes.
    public init(_ a: Checkpoint, scheme schemeA: KeyScheme, _ b: Checkpoint, scheme schemeB: KeyScheme) {
        self.a = a
        self.b = b
        self.schemeA = schemeA
        self.schemeB = schemeB
    }

    /// Which weights stand for each side's UNet (see ``EMASelection``).
    public private(set) var selection: EMASelection = .live
    /// Tensors of A set aside by the selection, with the component each belongs to.
    private var setAsideA: [Int: Component] = [:]
    /// Tensors of B set aside by the selection, with the component each belongs to.
    private var setAsideB: [Int: Component] = [:]

    /// Prepares to align `a` with `b`, the selected side's EMA copy standing for its UNet.
    ///
    /// - Throws: ``CheckpointError`` naming the checkpoint when a selected side has no EMA copy.
    public init(_ a: Checkpoint, _ b: Checkpoint, ema selection: EMASelection) throws(CheckpointError) {
        try self.init(a, scheme: KeyScheme(a), b, scheme: KeyScheme(b), ema: selection)
    }

    /// Prepares to align `a` with `b` through their schemes as read from the names (see
    /// ``KeyScheme/init(_:)``), the selected side's EMA copy standing for its UNet.
    ///
    /// - Throws: ``CheckpointError`` naming the checkpoint when a selected side has no EMA copy.
    public init(_ a: Checkpoint, scheme schemeA: KeyScheme, _ b: Checkpoint, scheme schemeB: KeyScheme,
                ema selection: EMASelection) throws(CheckpointError) {
        for (checkpoint, scheme, label, used) in [(a, schemeA, "a", selection.usesEMAForA), (b, schemeB, "b", selection.usesEMAForB)]
        where used && !scheme.hasEMA {
            throw CheckpointError(path: checkpoint.path, kind: .invalid(
                "--ema \(selection.rawValue): \(label.uppercased()) has no EMA weights (model_ema.* or unet_ema/) to stand for its UNet"))
        }
        func choice(_ usesEMA: Bool) -> KeyScheme.Denoiser {
            selection == .live ? .live : (usesEMA ? .ema : .liveOnly)
        }
        let (chosenA, asideA) = schemeA.denoiser(choice(selection.usesEMAForA), of: a)
        let (chosenB, asideB) = schemeB.denoiser(choice(selection.usesEMAForB), of: b)
        self.init(a, scheme: chosenA, b, scheme: chosenB)
        self.selection = selection
        setAsideA = Dictionary(uniqueKeysWithValues: asideA.map { ($0, schemeA.targets[$0].first?.component ?? .ema) })
        setAsideB = Dictionary(uniqueKeysWithValues: asideB.map { ($0, schemeB.targets[$0].first?.component ?? .ema) })
    }

    /// Canonical keys that name the same tensor in different UNet kinds: LDM's `label_emb`
    /// is SDXL's `add_embedding` or a class-conditioned UNet's `class_embedding`.
    static let canonicalAliases: [(String, String)] = [
        ("unet/add_embedding.", "unet/class_embedding."),
        ("unet_ema/add_embedding.", "unet_ema/class_embedding."),
    ]

    /// The other spelling of a canonical key, if it has one.
    static func alias(of canonical: String) -> String? {
        for (first, second) in canonicalAliases {
            if canonical.hasPrefix(first) { return second + canonical.dropFirst(first.count) }
            if canonical.hasPrefix(second) { return first + canonical.dropFirst(second.count) }
        }
        return nil
    }

    private struct Match {
        var targetA: KeyScheme.Target?
        var b: Int
        var targetB: KeyScheme.Target?
    }

    /// The alignment: pairs in A's tensor order, then each side's leftovers classified.
    public func alignment() -> Alignment {
        var indexB: [String: (tensor: Int, target: KeyScheme.Target)] = [:]
        for (j, targets) in schemeB.targets.enumerated() {
            for target in targets where indexB[target.canonical] == nil {
                indexB[target.canonical] = (j, target)
            }
        }

        var matches = [[Match]](repeating: [], count: a.tensors.count)
        var usedA = Set<String>()
        var usedB = Set<String>()
        var matchedB = [Int](repeating: 0, count: b.tensors.count)
        for (i, targets) in schemeA.targets.enumerated() {
            for target in targets where usedA.insert(target.canonical).inserted {
                var key = target.canonical
                var entry = indexB[key]
                if entry == nil, let alias = Aligner.alias(of: key) {
                    key = alias
                    entry = indexB[alias]
                }
                guard let entry, usedB.insert(key).inserted else { continue }
                matches[i].append(Match(targetA: target, b: entry.tensor, targetB: entry.target))
                matchedB[entry.tensor] += 1
            }
        }

        // Whatever no mapping paired is paired by exact name.
        var nameIndexB: [String: Int] = [:]
        for (j, tensor) in b.tensors.enumerated()
        where matchedB[j] == 0 && setAsideB[j] == nil && nameIndexB[tensor.name] == nil {
            nameIndexB[tensor.name] = j
        }
        for (i, tensor) in a.tensors.enumerated() where matches[i].isEmpty && setAsideA[i] == nil {
            guard let j = nameIndexB.removeValue(forKey: tensor.name) else { continue }
            matches[i].append(Match(targetA: nil, b: j, targetB: nil))
            matchedB[j] += 1
        }

        let classifierA = LeftoverClassifier(a, scheme: schemeA, other: schemeB)
        let classifierB = LeftoverClassifier(b, scheme: schemeB, other: schemeA)
        var pairs: [Alignment.Proposal] = []
        var onlyInA: [Leftover<SideA>] = []
        for (i, list) in matches.enumerated() {
            if let folded = fold(i, list) {
                pairs.append(folded)
            } else {
                for match in list { pairs.append(pair(i, match, classifier: classifierA)) }
            }
            let expected = max(schemeA.targets[i].count, 1)
            if list.count < expected {
                onlyInA.append(leftover(i, classifier: classifierA, setAside: setAsideA))
            }
        }
        var onlyInB: [Leftover<SideB>] = []
        for j in b.tensors.indices where matchedB[j] < max(schemeB.targets[j].count, 1) {
            onlyInB.append(leftover(j, classifier: classifierB, setAside: setAsideB))
        }
        return Alignment(a: a, b: b, pairs: pairs, onlyInA: onlyInA, onlyInB: onlyInB)
    }

    /// A tensor with no counterpart: set aside by the EMA selection, or classified.
    ///
    /// Under a selection, EMA leftovers the selection did not use (the `decay` and `num_updates`
    /// scalars, EMA keys no UNet key builds) are set aside too: only one set of denoiser weights
    /// per side is compared.
    private func leftover<Side>(_ index: Int, classifier: LeftoverClassifier, setAside: [Int: Component]) -> Leftover<Side> {
        if let component = setAside[index] { return Leftover(tensor: index, component: component, kind: .setAside) }
        let (component, kind) = classifier.classify(index)
        if selection != .live && kind == .ema { return Leftover(tensor: index, component: component, kind: .setAside) }
        return Leftover(tensor: index, component: component, kind: kind)
    }

    /// One pair for a match; the transform is the mapping's (a transpose) or, failing that, the
    /// shapes' (decided by ``Alignment``).
    private func pair(_ i: Int, _ match: Match, classifier: LeftoverClassifier) -> Alignment.Proposal {
        let tensorA = a.tensors[i]
        let tensorB = b.tensors[match.b]
        let transposed = PairTransform.between(match.targetA?.transform ?? .identity, match.targetB?.transform ?? .identity) == .transpose
        let name = tensorA.name == tensorB.name ? tensorA.name : (match.targetA?.canonical ?? tensorA.name)
        let component = match.targetA?.component ?? match.targetB?.component ?? classifier.classify(i).component
        return Alignment.Proposal(name: name, component: component,
                                  a: TensorRef(tensor: i, rows: match.targetA?.rows),
                                  b: TensorRef(tensor: match.b, rows: match.targetB?.rows), transposed: transposed)
    }

    /// One whole-tensor pair when both sides hold the same fused tensor, cut the same way; else nil.
    private func fold(_ i: Int, _ list: [Match]) -> Alignment.Proposal? {
        guard list.count > 1, let first = list.first, list.count == schemeA.targets[i].count,
              list.count == schemeB.targets[first.b].count,
              list.allSatisfy({ $0.b == first.b && $0.targetA?.part != nil && $0.targetA?.part == $0.targetB?.part
                  && $0.targetA?.transform == $0.targetB?.transform }) else { return nil }
        return Alignment.Proposal(name: a.tensors[i].name, component: first.targetA?.component ?? .other,
                                  a: TensorRef(tensor: i), b: TensorRef(tensor: first.b))
    }
}
