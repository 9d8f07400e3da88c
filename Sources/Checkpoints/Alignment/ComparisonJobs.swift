/// Pairs of tensor views to compare, derived from an ``Alignment``, each tagged with what it is for.
///
/// The main jobs are the alignment's pairs, tagged with their ``PairID`` (``Alignment/jobs``);
/// diagnosis hypotheses and the EMA counterpart are further jobs over the same two checkpoints,
/// tagged with the hypothesis or the main pair they shadow (``Alignment/jobs(_:)``). Jobs carry
/// their checkpoints, so the comparison engine cannot be handed tensors of another pair of
/// files; they have no leftovers, which belong to the alignment alone.
public struct ComparisonJobs<Tag: Sendable>: Sendable {
    /// One pair of views to compare.
    public struct Job: Sendable {
        /// What the job is for (the pair it is, the hypothesis it tests, the pair it shadows).
        public let tag: Tag
        /// The name the comparison carries.
        public let name: String
        /// The component the tensors belong to.
        public let component: Component
        /// A's view (the reference).
        public let a: TensorRef<SideA>
        /// B's view.
        public let b: TensorRef<SideB>
        /// How B lines up with A, as the alignment decided it.
        public let transform: PairTransform
    }

    /// The reference checkpoint the A views are read from.
    public let a: Checkpoint
    /// The checkpoint the B views are read from.
    public let b: Checkpoint
    /// The jobs, in the order results come back.
    public let jobs: [Job]

    /// Jobs over an alignment's checkpoints (made only by ``Alignment``).
    package init(a: Checkpoint, b: Checkpoint, jobs: [Job]) {
        self.a = a
        self.b = b
        self.jobs = jobs
    }
}
