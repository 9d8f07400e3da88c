import CKDiffShims
import Foundation
import Safetensors
import Testing

/// Every bit pattern of the 16- and 8-bit float dtypes, decoded and checked one by one.
@Suite("Float decoding")
struct FloatDecodingTests {
    /// All 65536 16-bit patterns, little-endian, in order.
    static let allHalfPatterns: [UInt8] = (0..<65536).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }

    /// Decodes `bytes` with `dtype`, starting `misalignment` bytes into a fresh buffer so no alignment is assumed.
    static func decode(_ dtype: DType, _ bytes: [UInt8], misalignment: Int = 0) -> [Float] {
        let count = bytes.count * 8 / dtype.bitSize
        var out = [Float](repeating: .signalingNaN, count: count)
        let padded = [UInt8](repeating: 0xAA, count: misalignment) + bytes
        padded.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { dtype.decode(raw.baseAddress! + misalignment, count: count, into: $0.baseAddress!) }
        }
        return out
    }

    static func decodeDouble(_ dtype: DType, _ bytes: [UInt8]) -> [Double] {
        let count = bytes.count * 8 / dtype.bitSize
        var out = [Double](repeating: .signalingNaN, count: count)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { dtype.decode(raw.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return out
    }

    /// The number of patterns where `actual` and `expected` differ, NaN matching any NaN.
    static func mismatches(_ actual: [Float], _ expected: [Float]) -> [Int] {
        guard actual.count == expected.count else { return [-1] }
        return actual.indices.filter { i in
            expected[i].isNaN ? !actual[i].isNaN : actual[i].bitPattern != expected[i].bitPattern
        }
    }

    // MARK: F16

    @Test("F16: all 65536 patterns decode like Float16, aligned and not", arguments: [0, 1, 3])
    func f16Exhaustive(misalignment: Int) {
        let expected = (0..<65536).map { Float(Float16(bitPattern: UInt16($0))) }
        let decoded = Self.decode(.f16, Self.allHalfPatterns, misalignment: misalignment)
        let bad = Self.mismatches(decoded, expected)
        #expect(bad.isEmpty, "\(bad.count) mismatches, first at pattern \(bad.first.map { String($0, radix: 16) } ?? "")")
    }

    @Test("F16: an independent formula agrees on every pattern (zeros, subnormals, infinities, NaN)")
    func f16AgainstFormula() {
        let decoded = Self.decode(.f16, Self.allHalfPatterns)
        var bad: [Int] = []
        for p in 0..<65536 {
            let sign: Double = p & 0x8000 != 0 ? -1 : 1
            let exponent = (p >> 10) & 0x1f
            let mantissa = Double(p & 0x3ff)
            let value: Double
            switch exponent {
            case 0: value = sign * mantissa / 1024 * pow(2, -14)
            case 31: value = mantissa == 0 ? sign * .infinity : .nan
            default: value = sign * (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
            }
            let got = Double(decoded[p])
            if value.isNaN ? !got.isNaN : (got != value || got.sign != value.sign) { bad.append(p) }
        }
        #expect(bad.isEmpty, "\(bad.count) mismatches")
    }

    @Test("F16: the Double overload widens the same values")
    func f16Double() {
        let floats = Self.decode(.f16, Self.allHalfPatterns)
        let doubles = Self.decodeDouble(.f16, Self.allHalfPatterns)
        let bad = floats.indices.filter { floats[$0].isNaN ? !doubles[$0].isNaN : Double(floats[$0]).bitPattern != doubles[$0].bitPattern }
        #expect(bad.isEmpty)
    }

    @Test("F16 shim: the dispatching and the portable routine are both exact on every pattern")
    func f16ShimPaths() {
        let expected = (0..<65536).map { Float(Float16(bitPattern: UInt16($0))) }
        var viaDispatch = [Float](repeating: 0, count: 65536)
        var viaPortable = [Float](repeating: 0, count: 65536)
        Self.allHalfPatterns.withUnsafeBytes { raw in
            viaDispatch.withUnsafeMutableBufferPointer { ckd_f16_to_f32(raw.baseAddress!, $0.baseAddress!, 65536) }
            viaPortable.withUnsafeMutableBufferPointer { ckd_f16_to_f32_portable(raw.baseAddress!, $0.baseAddress!, 65536) }
        }
        // On a CPU with F16C the dispatching routine converts all 65536 (a multiple of 16) with it.
        #expect(Self.mismatches(viaDispatch, expected).isEmpty, "F16C available: \(ckd_f16c_available())")
        #expect(Self.mismatches(viaPortable, expected).isEmpty)

        // Counts that leave a tail for the portable routine, from an odd address.
        for count in [1, 7, 15, 17, 33] {
            let bytes = Array(Self.allHalfPatterns[2 * 0x7bf0..<2 * (0x7bf0 + count)])
            let decoded = Self.decode(.f16, bytes, misalignment: 1)
            #expect(Self.mismatches(decoded, Array(expected[0x7bf0..<0x7bf0 + count])).isEmpty, "count \(count)")
        }
    }

    // MARK: BF16

    @Test("BF16: all 65536 patterns are the upper half of a binary32, bit for bit", arguments: [0, 1])
    func bf16Exhaustive(misalignment: Int) {
        let decoded = Self.decode(.bf16, Self.allHalfPatterns, misalignment: misalignment)
        let bad = (0..<65536).filter { decoded[$0].bitPattern != UInt32($0) << 16 }
        #expect(bad.isEmpty, "\(bad.count) mismatches")
        let doubles = Self.decodeDouble(.bf16, Self.allHalfPatterns)
        let badDouble = (0..<65536).filter { p in
            let f = Float(bitPattern: UInt32(p) << 16)
            return f.isNaN ? !doubles[p].isNaN : Double(f).bitPattern != doubles[p].bitPattern
        }
        #expect(badDouble.isEmpty)
    }

    // MARK: F8

    /// F8_E4M3 (float8_e4m3fn): 1 sign, 4 exponent bits with bias 7, 3 mantissa bits;
    /// S.1111.111 is NaN and there are no infinities.
    static func e4m3(_ byte: UInt8) -> Double {
        let sign: Double = byte & 0x80 != 0 ? -1 : 1
        let exponent = Int(byte >> 3) & 0xf
        let mantissa = Double(byte & 0x7)
        if exponent == 0xf && mantissa == 7 { return .nan }
        if exponent == 0 { return sign * (mantissa / 8) * pow(2, -6) }
        return sign * (1 + mantissa / 8) * pow(2, Double(exponent - 7))
    }

    /// F8_E5M2 (float8_e5m2): 1 sign, 5 exponent bits with bias 15, 2 mantissa bits, IEEE infinities and NaN.
    static func e5m2(_ byte: UInt8) -> Double {
        let sign: Double = byte & 0x80 != 0 ? -1 : 1
        let exponent = Int(byte >> 2) & 0x1f
        let mantissa = Double(byte & 0x3)
        if exponent == 0x1f { return mantissa == 0 ? sign * .infinity : .nan }
        if exponent == 0 { return sign * (mantissa / 4) * pow(2, -14) }
        return sign * (1 + mantissa / 4) * pow(2, Double(exponent - 15))
    }

    @Test("F8: all 256 patterns of each kind match the format's formula",
          arguments: [(DType.f8e4m3, 0), (.f8e5m2, 0), (.f8e4m3, 5), (.f8e5m2, 5)])
    func f8Exhaustive(dtype: DType, misalignment: Int) {
        let isE4M3 = dtype == DType.f8e4m3
        let bytes = (0...255).map { UInt8($0) }
        let floats = Self.decode(dtype, bytes, misalignment: misalignment)
        let doubles = Self.decodeDouble(dtype, bytes)
        for b in bytes {
            let expected = isE4M3 ? Self.e4m3(b) : Self.e5m2(b)
            let f = Double(floats[Int(b)]), d = doubles[Int(b)]
            if expected.isNaN {
                #expect(f.isNaN && d.isNaN, "\(dtype.rawValue) 0x\(String(b, radix: 16))")
            } else {
                #expect(f == expected && f.sign == expected.sign, "\(dtype.rawValue) 0x\(String(b, radix: 16)): \(f) vs \(expected)")
                #expect(d.bitPattern == expected.bitPattern, "\(dtype.rawValue) 0x\(String(b, radix: 16))")
            }
        }
        // Counts of the special values, as the formats define them.
        let nanCount = floats.filter(\.isNaN).count
        let infCount = floats.filter(\.isInfinite).count
        #expect(nanCount == (isE4M3 ? 2 : 6))
        #expect(infCount == (isE4M3 ? 0 : 2))
        #expect(floats.filter(\.isFinite).map { Double(abs($0)) }.max() == dtype.greatestFiniteMagnitude)
    }

    // MARK: Round through F16

    /// Values to round: every half, the midpoints between neighbours and the floats beside them,
    /// the range's edges, and a spread of pseudo-random floats.
    static let roundingInputs: [Float] = {
        var values: [Float] = []
        var positives: [Float] = []
        for p in 0..<0x7c00 { positives.append(Float(Float16(bitPattern: UInt16(p)))) }
        positives.append(65536)   // the next value after 65504 if the exponent went on
        for i in 0..<positives.count - 1 {
            let mid = Float((Double(positives[i]) + Double(positives[i + 1])) / 2)   // exact: 12 significant bits
            values += [positives[i], mid, mid.nextUp, mid.nextDown]
        }
        values += [65504, 65519.99, 65519.998, 65520, 65520.01, 65536, 1e10, .greatestFiniteMagnitude, .infinity,
                   0x1p-25, Float(0x1p-25).nextUp, 0x1p-26, 0x3p-26, 0x1p-14, Float(0x1p-14).nextDown, 0x7ffp-25,
                   .leastNonzeroMagnitude, .leastNormalMagnitude, 0, .nan, .signalingNaN, Float(bitPattern: 0x7fc0_1234)]
        values += values.map { -$0 }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<(1 << 18) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)))
        }
        return values
    }()

    static func roundThrough(_ values: [Float], portable: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if portable {
                    ckd_f32_round_through_f16_portable(src.baseAddress!, dst.baseAddress!, values.count)
                } else {
                    ckd_f32_round_through_f16(src.baseAddress!, dst.baseAddress!, values.count)
                }
            }
        }
        return out
    }

    @Test("Rounding through F16 matches Float(Float16(x)), on both paths", arguments: [false, true])
    func roundThroughF16(portable: Bool) {
        let inputs = Self.roundingInputs
        let expected = inputs.map { Float(Float16($0)) }
        let rounded = Self.roundThrough(inputs, portable: portable)
        let bad = Self.mismatches(rounded, expected)
        #expect(bad.isEmpty, "\(bad.count) mismatches; first: \(bad.first.map { "\(inputs[$0]) → \(rounded[$0]), want \(expected[$0])" } ?? "")")
    }

    @Test("Rounding through F16: ties go to the even neighbour, 65520 overflows, NaN stays NaN", arguments: [false, true])
    func roundThroughF16Independent(portable: Bool) {
        // Ties, decided from the bit patterns alone.
        var ties: [Float] = [], want: [Float] = []
        for p in 0..<0x7bff {
            let low = Float(Float16(bitPattern: UInt16(p))), high = Float(Float16(bitPattern: UInt16(p + 1)))
            ties.append(Float((Double(low) + Double(high)) / 2))
            want.append(p % 2 == 0 ? low : high)
        }
        let rounded = Self.roundThrough(ties, portable: portable)
        #expect(Self.mismatches(rounded, want).isEmpty)

        let edges: [Float] = [65504, 65519.99, 65520, -65520, 1e6, 0x1p-25, 0x3p-26, 0x7ffp-25, -0x1p-26, .nan, 1, 2049, 2051]
        let out = Self.roundThrough(edges, portable: portable)
        #expect(out[0] == 65504)
        #expect(out[1] == 65504)
        #expect(out[2] == .infinity)
        #expect(out[3] == -.infinity)
        #expect(out[4] == .infinity)
        #expect(out[5] == 0 && out[5].sign == .plus)          // 2^-25 is halfway to 2^-24: ties to 0 (even)
        #expect(out[6] == 0x1p-24)                            // 0.75 × 2^-24 rounds up to the least subnormal
        #expect(out[7] == 0x1p-14)                            // halfway between the largest subnormal and 2^-14 (even)
        #expect(out[8] == 0 && out[8].sign == .minus)         // -0.25 × 2^-24 → -0
        #expect(out[9].isNaN)
        #expect(out[10] == 1 && out[11] == 2048 && out[12] == 2052)
    }
}
