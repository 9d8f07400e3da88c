/// Marks which checkpoint of an ``Alignment`` a ``TensorRef`` or ``Leftover`` belongs to.
///
/// Only ``SideA`` and ``SideB`` conform; they are never instantiated.
public protocol CheckpointSide: Sendable {
    /// The side's letter in messages ("A" or "B").
    static var label: String { get }
}

/// The reference checkpoint of an ``Alignment``.
public enum SideA: CheckpointSide {
    public static let label = "A"
}

/// The checkpoint of an ``Alignment`` compared with the reference.
public enum SideB: CheckpointSide {
    public static let label = "B"
}

/// A tensor of one side's checkpoint, whole or a block of its outermost rows.
///
/// The side is part of the type: a `TensorRef<SideA>` is only accepted where A's tensors are read
/// (``Alignment/tensor(_:)-swift.method``, the A side of a pair or job), so a view of B can never
/// be read in A's checkpoint, or the other way round; the compiler rejects it. References are made
/// only inside the package (by the aligner and the stages that derive jobs from an ``Alignment``),
/// each from an index of the checkpoint it names.
public struct TensorRef<Side: CheckpointSide>: Sendable, Hashable {
    /// Index into the side's ``Checkpoint/tensors``.
    public let tensor: Int
    /// Rows of the outermost dimension taken (for q/k/v inside a fused `in_proj_weight`), or nil for all.
    public let rows: Range<Int>?

    package init(tensor: Int, rows: Range<Int>? = nil) {
        self.tensor = tensor
        self.rows = rows
    }

    /// The same tensor cut to other rows.
    package func with(rows: Range<Int>?) -> TensorRef {
        TensorRef(tensor: tensor, rows: rows)
    }
}
