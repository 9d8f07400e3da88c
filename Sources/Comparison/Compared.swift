import Checkpoints

/// A job's tag with the comparison the job produced: the pair it was, the hypothesis it tested,
/// or the pair it shadows.
public struct Compared<Tag: Sendable>: Sendable {
    /// The job's tag (see ``ComparisonJobs/Job/tag``).
    public let tag: Tag
    /// The comparison.
    public let comparison: TensorComparison
}
