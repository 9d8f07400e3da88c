import CKDiffShims

extension DType {
    /// Decodes little-endian elements to `Float`.
    ///
    /// - Parameters:
    ///   - source: The first byte of the elements; no alignment is assumed.
    ///   - count: The number of elements to decode.
    ///   - destination: Room for `count` floats.
    ///
    /// F16, BF16, F32, both F8 kinds, BOOL, U8, I8, I16 and U16 decode exactly:
    /// subnormals, signed zeros, infinities and NaN included. F64, I32, U32, I64
    /// and U64 are rounded to the nearest `Float`; use the `Double` overload for
    /// them (see ``fitsInFloat``). Opaque dtypes must not be decoded.
    @inlinable
    public func decode(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            ckd_f16_to_f32(source, destination, count)
        case .bf16:
            ckd_bf16_to_f32(source, destination, count)
        case .f8e4m3:
            DType.decodeTable(source, count: count, table: DType.e4m3Table, into: destination)
        case .f8e5m2:
            DType.decodeTable(source, count: count, table: DType.e5m2Table, into: destination)
        case .bool, .u8:
            let bytes = source.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { destination[i] = Float(bytes[i]) }
        case .i8:
            let bytes = source.assumingMemoryBound(to: Int8.self)
            for i in 0..<count { destination[i] = Float(bytes[i]) }
        case .i16:
            for i in 0..<count { destination[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
        case .u16:
            for i in 0..<count { destination[i] = Float(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .i32:
            for i in 0..<count { destination[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case .u32:
            for i in 0..<count { destination[i] = Float(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f64:
            for i in 0..<count { destination[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        case .i64:
            for i in 0..<count { destination[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case .u64:
            for i in 0..<count { destination[i] = Float(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
        case .f4, .f6e2m3, .f6e3m2, .f8e8m0, .f8e4m3fnuz, .f8e5m2fnuz, .c64:
            preconditionFailure("\(rawValue) is compared bitwise and never decoded")
        }
    }

    /// Decodes little-endian elements to `Double`.
    ///
    /// Exact for every decodable dtype except I64 and U64 values beyond 2^53 in
    /// magnitude, which round to the nearest `Double`.
    @inlinable
    public func decode(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Double>) {
        switch self {
        case .f64:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 8)
        case .i32:
            for i in 0..<count { destination[i] = Double(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case .u32:
            for i in 0..<count { destination[i] = Double(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .i64:
            for i in 0..<count { destination[i] = Double(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case .u64:
            for i in 0..<count { destination[i] = Double(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
        default:
            // Every other decodable dtype is exact in Float, and Float is exact in Double.
            let block = 4096
            withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { scratch in
                guard let base = scratch.baseAddress else { return }
                var done = 0
                let stride = bitSize / 8
                while done < count {
                    let n = Swift.min(block, count - done)
                    decode(source + done * stride, count: n, into: base)
                    for i in 0..<n { destination[done + i] = Double(base[i]) }
                    done += n
                }
            }
        }
    }

    @usableFromInline
    static func decodeTable(_ source: UnsafeRawPointer, count: Int, table: [Float], into destination: UnsafeMutablePointer<Float>) {
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        table.withUnsafeBufferPointer { t in
            for i in 0..<count { destination[i] = t[Int(bytes[i])] }
        }
    }

    /// F8_E4M3 (PyTorch `float8_e4m3fn`): bias 7, no infinities, `S.1111.111` is NaN.
    @usableFromInline
    static let e4m3Table: [Float] = (0..<256).map { DType.decodeE4M3(UInt8($0)) }

    /// F8_E5M2 (PyTorch `float8_e5m2`): the upper byte of an IEEE binary16.
    @usableFromInline
    static let e5m2Table: [Float] = (0..<256).map { Float(Float16(bitPattern: UInt16($0) << 8)) }

    static func decodeE4M3(_ byte: UInt8) -> Float {
        let sign: Float = byte & 0x80 != 0 ? -1 : 1
        let exponent = Int((byte >> 3) & 0x0f)
        let mantissa = Float(byte & 0x07)
        if exponent == 0x0f && byte & 0x07 == 0x07 { return .nan }
        if exponent == 0 { return sign * mantissa * 0x1p-9 }   // subnormal: m/8 * 2^-6
        return sign * (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
    }
}
