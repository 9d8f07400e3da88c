extension Checkpoint {
    /// Detects layout, architecture and the component of every tensor from names and shapes only.
    ///
    /// See ``Layout/detect(_:)``, ``ComponentClassifier`` and the architecture rules
    /// (structure first, shapes as confirmation). Reads nothing but the headers already
    /// in memory; the cost is a few passes over the tensor list.
    public func identify() -> CheckpointIdentity {
        let layout = Layout.detect(self)
        let assignments = ComponentClassifier(self, layout: layout).assignments()
        let (architecture, evidence) = ArchitectureDetector(self, layout: layout, assignments: assignments).detect()
        var emaTensors = 0
        var unetTensors = 0
        for (tensor, assignment) in zip(tensors, assignments) {
            switch assignment.component {
            case .ema where tensor.key != EMAKey.decay && tensor.key != EMAKey.numUpdates: emaTensors += 1
            case .unet: unetTensors += 1
            default: break
            }
        }
        return CheckpointIdentity(layout: layout, architecture: architecture, evidence: evidence,
                                  components: assignments.map(\.component),
                                  ema: EMACoverage(tensors: emaTensors, unetTensors: unetTensors))
    }
}
