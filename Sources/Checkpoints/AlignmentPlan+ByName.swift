extension AlignmentPlan {
    /// Pairs tensors of the same name, for two checkpoints in the same layout.
    ///
    /// Pairs come in A's tensor order; leftovers are classed as weights (a real
    /// gap) or EMA copies (`model_ema.*`, `unet_ema/`), with their component from
    /// `component`.
    public static func byName(_ a: Checkpoint, _ b: Checkpoint,
                              component: (Checkpoint.Tensor) -> Component) -> AlignmentPlan {
        var indexB: [String: Int] = [:]
        for (i, t) in b.tensors.enumerated() { indexB[t.name] = i }
        var matchedB = Set<Int>()
        var pairs: [AlignedPair] = []
        var onlyInA: [Leftover] = []
        for (i, t) in a.tensors.enumerated() {
            if let j = indexB[t.name] {
                matchedB.insert(j)
                pairs.append(AlignedPair(name: t.name, component: component(t), a: TensorView(tensor: i), b: TensorView(tensor: j)))
            } else {
                let c = component(t)
                onlyInA.append(Leftover(tensor: i, component: c, kind: c == .ema ? .ema : .weight))
            }
        }
        var onlyInB: [Leftover] = []
        for (j, t) in b.tensors.enumerated() where !matchedB.contains(j) {
            let c = component(t)
            onlyInB.append(Leftover(tensor: j, component: c, kind: c == .ema ? .ema : .weight))
        }
        return AlignmentPlan(pairs: pairs, onlyInA: onlyInA, onlyInB: onlyInB)
    }
}
