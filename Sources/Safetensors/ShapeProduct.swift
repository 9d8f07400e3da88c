/// The number of elements of a shape, safe for any shape a file can declare.
///
/// The product of the dimensions, except: a shape with a zero dimension has 0 elements even when
/// the other dimensions multiply past `Int.max` (`[4294967296, 2147483648, 0]` is a valid empty
/// tensor), and a product that does not fit in `Int` is `Int.max` instead of a trap. A negative
/// dimension (never produced by the readers) counts as 0. Use it for every product of
/// dimensions taken from input files.
package func elementCount<S: Sequence>(of shape: S) -> Int where S.Element == Int {
    var product = 1
    var saturated = false
    for dimension in shape {
        if dimension <= 0 { return 0 }
        if saturated { continue }
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        if overflow { saturated = true } else { product = next }
    }
    return saturated ? Int.max : product
}

extension Int {
    /// `self + other`, or `Int.max` / `Int.min` where the sum does not fit (totals of element counts).
    package func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? Int.max : Int.min) : sum
    }
}
