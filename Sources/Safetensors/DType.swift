/// An element type of the safetensors format.
///
/// The cases and their spellings are those of the reference reader
/// (`safetensors/src/tensor.rs`, `Dtype`), listed there in increasing alignment.
/// Every name is recognised; ``isDecodable`` tells which ones ckdiff turns into
/// numbers. The others (sub-byte floats, exotic 8-bit floats, complex) are
/// reported and compared bit for bit.
public enum DType: String, Sendable, CaseIterable, Hashable, Codable {
    case bool = "BOOL"
    case f4 = "F4"
    case f6e2m3 = "F6_E2M3"
    case f6e3m2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case f8e4m3fnuz = "F8_E4M3FNUZ"
    case f8e5m2fnuz = "F8_E5M2FNUZ"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// The format's spelling, such as `"BF16"`.
    public var name: String { rawValue }

    /// Bits per element: 4, 6, 8, 16, 32 or 64.
    public var bitSize: Int {
        switch self {
        case .f4: return 4
        case .f6e2m3, .f6e3m2: return 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .c64, .f64, .i64, .u64: return 64
        }
    }

    /// The broad kind of values, which decides how two tensors may be compared.
    public enum Kind: String, Sendable, Codable {
        /// `BOOL`: compared exactly.
        case boolean
        /// Signed or unsigned integers: compared exactly.
        case integer
        /// Real floating point: compared with tolerances.
        case floatingPoint
        /// Names ckdiff does not decode (sub-byte, exotic F8, complex): compared bitwise.
        case opaque
    }

    /// The kind of values this dtype holds.
    public var kind: Kind {
        switch self {
        case .bool: return .boolean
        case .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: return .integer
        case .f8e5m2, .f8e4m3, .f16, .bf16, .f32, .f64: return .floatingPoint
        case .f4, .f6e2m3, .f6e3m2, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz, .c64: return .opaque
        }
    }

    /// Whether ckdiff decodes this dtype to numbers (all but the opaque kinds).
    public var isDecodable: Bool { kind != .opaque }

    /// Whether every value of this dtype is exactly representable as a `Float`.
    ///
    /// False for F64, I32, U32, I64 and U64, which ckdiff decodes to `Double`
    /// (exact for F64; exact for 64-bit integers up to 2^53 in magnitude).
    public var fitsInFloat: Bool {
        switch self {
        case .f64, .i32, .u32, .i64, .u64: return false
        default: return isDecodable
        }
    }

    /// The largest finite value, for floating-point dtypes.
    public var greatestFiniteMagnitude: Double? {
        switch self {
        case .f16: return 65504
        case .bf16: return 3.3895313892515355e38
        case .f32: return Double(Float.greatestFiniteMagnitude)
        case .f64: return Double.greatestFiniteMagnitude
        case .f8e4m3: return 448
        case .f8e5m2: return 57344
        default: return nil
        }
    }
}
