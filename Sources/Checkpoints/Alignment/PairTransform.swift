/// How B's data must be read to line up with A's, element for element.
public enum PairTransform: String, Sendable, Hashable, Codable {
    /// Same element order; the shapes are equal.
    case identity
    /// Same element order; the shapes differ only by dimensions of size 1 (`[C,C,1,1]` ⇄ `[C,C]`).
    case reshape
    /// B is A with its first two dimensions swapped: `A[i][j][…]` lines up with `B[j][i][…]`
    /// (the transpose of a 2-D tensor; for a convolution kernel, output and input channels swapped).
    case transpose
}
