import Safetensors

/// An absolute and relative tolerance: `b` is close to `a` when |b − a| ≤ atol + rtol · |a|.
///
/// The test is asymmetric, as in `torch.testing.assert_close` and
/// `numpy.testing.assert_allclose`: A is the reference, and the relative part
/// scales with |a| only.
///
/// Mathematical properties:
/// - Not symmetric: `a` close to `b` does not imply `b` close to `a` when rtol > 0.
/// - Not transitive.
/// - With atol = rtol = 0 it is exact equality (of finite values).
public struct Tolerance: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The absolute part, in the units of the values.
    public var atol: Double
    /// The relative part, a fraction of |a|.
    public var rtol: Double

    public init(atol: Double, rtol: Double) {
        self.atol = atol
        self.rtol = rtol
    }

    /// Exact equality.
    public static let exact = Tolerance(atol: 0, rtol: 0)

    /// The default tolerance for values of one dtype.
    ///
    /// Floating-point defaults are those of `torch.testing.assert_close`: F16
    /// (atol 1e-5, rtol 1e-3), BF16 (1e-5, 1.6e-2), F32 (1e-5, 1.3e-6), F64
    /// (1e-7, 1e-7). torch gives none for 8-bit floats; ckdiff uses the spacing
    /// of values just above 1.0 as rtol: F8_E4M3 (atol 1e-5, rtol 0.125: 3 mantissa
    /// bits) and F8_E5M2 (1e-5, 0.25: 2 bits). Integers and BOOL are exact; opaque dtypes are
    /// compared bitwise and have none (`nil`).
    public static func defaultFor(_ dtype: DType) -> Tolerance? {
        switch dtype {
        case .f16: return Tolerance(atol: 1e-5, rtol: 1e-3)
        case .bf16: return Tolerance(atol: 1e-5, rtol: 1.6e-2)
        case .f32: return Tolerance(atol: 1e-5, rtol: 1.3e-6)
        case .f64: return Tolerance(atol: 1e-7, rtol: 1e-7)
        case .f8e4m3: return Tolerance(atol: 1e-5, rtol: 0.125)
        case .f8e5m2: return Tolerance(atol: 1e-5, rtol: 0.25)
        case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: return .exact
        case .f4, .f6e2m3, .f6e3m2, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz, .c64: return nil
        }
    }

    /// The default tolerance for a pair: that of the looser dtype (the larger rtol,
    /// then the larger atol), as torch.testing does for mixed dtypes. An
    /// integer-versus-float pair takes the float's tolerance.
    public static func defaultFor(_ a: DType, _ b: DType) -> Tolerance? {
        guard let ta = defaultFor(a), let tb = defaultFor(b) else { return nil }
        return (ta.rtol, ta.atol) >= (tb.rtol, tb.atol) ? ta : tb
    }

    public var description: String { "atol \(atol), rtol \(rtol)" }
}
