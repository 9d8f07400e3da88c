/// A tensor present on one side only, with what it is.
///
/// The side is part of the type (``SideA`` or ``SideB``), as for ``TensorRef``.
public struct Leftover<Side: CheckpointSide>: Sendable {
    /// Index into the side's ``Checkpoint/tensors``.
    public let tensor: Int
    /// The component it belongs to.
    public let component: Component
    /// Why it has no counterpart.
    public let kind: LeftoverClass

    package init(tensor: Int, component: Component, kind: LeftoverClass) {
        self.tensor = tensor
        self.component = component
        self.kind = kind
    }

    /// The whole tensor, as a reference of its side.
    public var ref: TensorRef<Side> { TensorRef(tensor: tensor) }
}
