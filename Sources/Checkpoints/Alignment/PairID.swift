/// Names one pair of an ``Alignment``: the key its comparison, diagnosis and EMA entry are filed under.
///
/// Made only by the ``Alignment`` whose pair it names (its position among ``Alignment/pairs``);
/// ordered as the pairs are (report order).
public struct PairID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Position of the pair in ``Alignment/pairs`` (the `index` of the report's EMA per-tensor entries).
    public let index: Int

    package init(_ index: Int) {
        self.index = index
    }

    public static func < (lhs: PairID, rhs: PairID) -> Bool { lhs.index < rhs.index }

    public var description: String { "pair \(index)" }
}
