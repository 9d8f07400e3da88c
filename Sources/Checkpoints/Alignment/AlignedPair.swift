/// Two tensor views of an ``Alignment`` that should hold the same values.
///
/// A's view is a `TensorRef<SideA>` and B's a `TensorRef<SideB>`: they cannot be swapped or read
/// in the wrong checkpoint (a compile-time guarantee, so no test checks it). Made only by the
/// alignment, which numbers it (``id``) and decides its ``transform`` once.
public struct AlignedPair: Sendable {
    /// The pair's key in its alignment (its position in ``Alignment/pairs``).
    public let id: PairID
    /// The name the report uses (A's name, or a canonical name for cross-layout pairs).
    public let name: String
    /// The component the tensor belongs to.
    public let component: Component
    /// A's side (the reference).
    public let a: TensorRef<SideA>
    /// B's side.
    public let b: TensorRef<SideB>
    /// How B lines up with A.
    public let transform: PairTransform
}
