/// One tensor's entry in a safetensors header, with its data located in the file.
public struct TensorInfo: Sendable, Hashable {
    /// The tensor's name (its key in the header).
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The dimensions, outermost first; empty for a 0-rank (scalar) tensor.
    public var shape: [Int]
    /// The number of elements: the product of `shape` (1 for a scalar, 0 if any dimension is 0).
    public var elementCount: Int
    /// Where the data starts, in bytes from the start of the file.
    public var fileOffset: Int64
    /// How many bytes the data spans.
    public var byteCount: Int

    public init(name: String, dtype: DType, shape: [Int], elementCount: Int, fileOffset: Int64, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = elementCount
        self.fileOffset = fileOffset
        self.byteCount = byteCount
    }

    /// The shape written as `[320, 4, 3, 3]`.
    public var shapeDescription: String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
