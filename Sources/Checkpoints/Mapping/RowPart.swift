/// One of several equal blocks of rows of a fused tensor.
///
/// OpenCLIP stores a layer's query, key and value projections as one tensor,
/// `in_proj_weight` = cat([q, k, v], dim 0); the canonical (diffusers) key
/// `self_attn.q_proj.weight` is part 0 of 3 of it, `k_proj` part 1 and `v_proj`
/// part 2. Parts are described without widths so that a mapping table holds
/// for any model size; ``rows(outer:)`` turns a part into rows once the tensor's
/// shape is known.
public struct RowPart: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which part, from 0.
    public var index: Int
    /// How many equal parts the first dimension is cut into.
    public var count: Int

    public init(_ index: Int, of count: Int) {
        self.index = index
        self.count = count
    }

    /// The rows of a tensor whose first dimension is `outer`, or nil if `outer`
    /// does not split into `count` equal parts.
    public func rows(outer: Int) -> Range<Int>? {
        guard count > 0, index >= 0, index < count, outer > 0, outer % count == 0 else { return nil }
        let size = outer / count
        return (index * size)..<((index + 1) * size)
    }

    /// `"0/3"`: part 0 of 3.
    public var description: String { "\(index)/\(count)" }
}
