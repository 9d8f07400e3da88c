/// One value per pair of an ``Alignment`` (a comparison, a diagnosis), looked up by ``PairID``.
///
/// The values are in pair order, so iterating gives report order; ``subscript(_:)-(PairID)`` and
/// ``pairs(of:)`` tie each value to its pair without a bare `Int` or a `zip`. A table is made
/// for one alignment (``Alignment/table(_:)``), with exactly one value per pair.
public struct PairTable<Value>: RandomAccessCollection {
    private var values: [Value]

    package init(_ values: [Value]) {
        self.values = values
    }

    public var startIndex: PairID { PairID(0) }
    public var endIndex: PairID { PairID(values.count) }
    public func index(after i: PairID) -> PairID { PairID(i.index + 1) }
    public func index(before i: PairID) -> PairID { PairID(i.index - 1) }
    public func index(_ i: PairID, offsetBy distance: Int) -> PairID { PairID(i.index + distance) }
    public func distance(from start: PairID, to end: PairID) -> Int { end.index - start.index }

    /// The value of a pair.
    public subscript(id: PairID) -> Value {
        get { values[id.index] }
        set { values[id.index] = newValue }
    }

    /// Whether the table holds a value for `id` (constant time, unlike `indices.contains`).
    public func holds(_ id: PairID) -> Bool { values.indices.contains(id.index) }

    /// The values with their pairs, in pair order.
    public func pairs(of alignment: Alignment) -> [(pair: AlignedPair, value: Value)] {
        alignment.pairs.map { ($0, values[$0.id.index]) }
    }

    /// Each value transformed, keyed by the same pairs.
    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> PairTable<T> {
        PairTable<T>(try values.map(transform))
    }
}

extension PairTable: Sendable where Value: Sendable {}
