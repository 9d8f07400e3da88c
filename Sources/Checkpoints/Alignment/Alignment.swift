/// Two checkpoints and what corresponds between them: the pairs to compare and each side's leftovers.
///
/// The contract between knowing layouts and comparing numbers. An aligner (same-layout by name,
/// or cross-layout through mapping tables) builds it from two checkpoints' headers; the
/// comparison engine runs the jobs derived from it (``jobs``) and knows nothing of layouts.
///
/// An alignment owns its checkpoints. Its pairs and leftovers refer to their tensors through
/// side-tagged references (``TensorRef``), so A's views are only read in ``a`` and B's only in
/// ``b``: the compiler, not a run-time check, keeps the sides apart. Every pair's transform is
/// decided here, once (``Proposal``); results are filed by ``PairID`` (``PairTable``).
public struct Alignment: Sendable {
    /// The reference checkpoint.
    public let a: Checkpoint
    /// The checkpoint compared with the reference.
    public let b: Checkpoint
    /// Pairs to compare, in report order; each pair's ``AlignedPair/id`` is its position.
    public let pairs: [AlignedPair]
    /// Tensors of A that nothing in B corresponds to.
    public let onlyInA: [Leftover<SideA>]
    /// Tensors of B that nothing in A corresponds to.
    public let onlyInB: [Leftover<SideB>]

    /// A pair before its transform is decided: two views and whether the mapping transposes B.
    public struct Proposal: Sendable {
        /// The name the report uses.
        public var name: String
        /// The component the tensors belong to.
        public var component: Component
        /// A's view.
        public var a: TensorRef<SideA>
        /// B's view.
        public var b: TensorRef<SideB>
        /// Whether the mapping says B is A with its first two dimensions swapped.
        public var transposed: Bool

        package init(name: String, component: Component, a: TensorRef<SideA>, b: TensorRef<SideB>, transposed: Bool = false) {
            self.name = name
            self.component = component
            self.a = a
            self.b = b
            self.transposed = transposed
        }
    }

    /// An alignment of `a` with `b`: each proposal becomes a pair, its ``PairID`` its position.
    package init(a: Checkpoint, b: Checkpoint, pairs: [Proposal],
                 onlyInA: [Leftover<SideA>], onlyInB: [Leftover<SideB>]) {
        self.a = a
        self.b = b
        self.onlyInA = onlyInA
        self.onlyInB = onlyInB
        self.pairs = pairs.enumerated().map { index, proposal in
            AlignedPair(id: PairID(index), name: proposal.name, component: proposal.component,
                        a: proposal.a, b: proposal.b,
                        transform: Alignment.transform(of: proposal, a: a, b: b))
        }
    }

    /// The pair an ID names.
    public subscript(id: PairID) -> AlignedPair { pairs[id.index] }

    /// A's tensor a reference names.
    public func tensor(_ ref: TensorRef<SideA>) -> Checkpoint.Tensor { a.tensors[ref.tensor] }

    /// B's tensor a reference names.
    public func tensor(_ ref: TensorRef<SideB>) -> Checkpoint.Tensor { b.tensors[ref.tensor] }

    /// The shape of A's view: the tensor's, with the first dimension cut to the rows taken.
    public func shape(of ref: TensorRef<SideA>) -> [Int] { Alignment.shape(a, ref.tensor, rows: ref.rows) }

    /// The shape of B's view: the tensor's, with the first dimension cut to the rows taken.
    public func shape(of ref: TensorRef<SideB>) -> [Int] { Alignment.shape(b, ref.tensor, rows: ref.rows) }

    /// The main jobs: every pair, tagged with its ID, in pair order.
    public var jobs: ComparisonJobs<PairID> {
        ComparisonJobs(a: a, b: b, jobs: pairs.map {
            ComparisonJobs.Job(tag: $0.id, name: $0.name, component: $0.component, a: $0.a, b: $0.b, transform: $0.transform)
        })
    }

    /// Further jobs over the same checkpoints (hypotheses, EMA counterparts), each transform
    /// decided as the pairs' were.
    package func jobs<Tag: Sendable>(_ proposals: [(tag: Tag, proposal: Proposal)]) -> ComparisonJobs<Tag> {
        ComparisonJobs(a: a, b: b, jobs: proposals.map { tag, p in
            ComparisonJobs.Job(tag: tag, name: p.name, component: p.component, a: p.a, b: p.b,
                               transform: Alignment.transform(of: p, a: a, b: b))
        })
    }

    /// One value per pair, in pair order, as a table keyed by the pairs' IDs.
    ///
    /// - Throws: ``CheckpointError`` when the count is not one per pair.
    public func table<Value>(_ values: [Value]) throws(CheckpointError) -> PairTable<Value> {
        guard values.count == pairs.count else {
            throw CheckpointError(path: a.path, kind: .invalid(
                "internal error: \(values.count) results for an alignment of \(pairs.count) pairs"))
        }
        return PairTable(values)
    }

    /// The one place a pair's transform is decided: `transpose` when the mapping says so;
    /// otherwise from the views' shapes, `identity` for equal shapes, `reshape` for shapes equal
    /// but for dimensions of size 1, and `identity` (reported as a shape mismatch) for the rest.
    static func transform(of proposal: Proposal, a: Checkpoint, b: Checkpoint) -> PairTransform {
        if proposal.transposed { return .transpose }
        return shapeTransform(shape(a, proposal.a.tensor, rows: proposal.a.rows),
                              shape(b, proposal.b.tensor, rows: proposal.b.rows))
    }

    /// `identity` for equal shapes, `reshape` for shapes equal but for dimensions of size 1;
    /// otherwise `identity`, which the comparison reports as a shape mismatch.
    static func shapeTransform(_ a: [Int], _ b: [Int]) -> PairTransform {
        if a == b { return .identity }
        return a.filter { $0 != 1 } == b.filter { $0 != 1 } ? .reshape : .identity
    }

    /// A view's shape: the tensor's, with the first dimension cut to the rows taken.
    private static func shape(_ checkpoint: Checkpoint, _ index: Int, rows: Range<Int>?) -> [Int] {
        guard checkpoint.tensors.indices.contains(index) else { return [] }
        var shape = checkpoint.tensors[index].info.shape
        if let rows, !shape.isEmpty { shape[0] = rows.count }
        return shape
    }
}
