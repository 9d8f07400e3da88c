extension Alignment {
    /// Pairs tensors of the same name, for two checkpoints in the same layout.
    ///
    /// Pairs come in A's tensor order; leftovers are classed as weights (a real
    /// gap) or EMA copies (`model_ema.*`, `unet_ema/`), with their component from
    /// `component`.
    public static func byName(_ a: Checkpoint, _ b: Checkpoint,
                              component: (Checkpoint.Tensor) -> Component) -> Alignment {
        var indexB: [String: Int] = [:]
        for (i, t) in b.tensors.enumerated() { indexB[t.name] = i }
        var matchedB = Set<Int>()
        var pairs: [Proposal] = []
        var onlyInA: [Leftover<SideA>] = []
        for (i, t) in a.tensors.enumerated() {
            if let j = indexB[t.name] {
                matchedB.insert(j)
                pairs.append(Proposal(name: t.name, component: component(t), a: TensorRef(tensor: i), b: TensorRef(tensor: j)))
            } else {
                let c = component(t)
                onlyInA.append(Leftover(tensor: i, component: c, kind: c == .ema ? .ema : .weight))
            }
        }
        var onlyInB: [Leftover<SideB>] = []
        for (j, t) in b.tensors.enumerated() where !matchedB.contains(j) {
            let c = component(t)
            onlyInB.append(Leftover(tensor: j, component: c, kind: c == .ema ? .ema : .weight))
        }
        return Alignment(a: a, b: b, pairs: pairs, onlyInA: onlyInA, onlyInB: onlyInB)
    }
}
