import CKDiffShims
@testable import Comparison
import CKDiffTestSupport
import Testing

/// The exact-cast check (`ckd_cast_check`) against roundings computed here independently:
/// F16 through Swift's `Float16` conversion, BF16 by picking the nearer of the two
/// neighbouring bfloat16 values in `Double` arithmetic (ties to the even one).
@Suite("Exact-cast check")
struct CastCheckTests {
    /// x rounded to bfloat16 and widened back, by distance rather than by bit tricks.
    static func referenceBF16(_ x: Float) -> Float {
        if x.isNaN || x.isInfinite { return x }
        // The bfloat16 value toward zero (the upper 16 bits), and the next one away from zero.
        let low = Float(bitPattern: x.bitPattern & 0xffff_0000)
        if x == low { return x }
        let step = low.magnitude < Float.leastNormalMagnitude
            ? 0x1p-133 : Double(sign: .plus, exponent: Double(low.magnitude).exponent - 7, significand: 1)
        let lowD = Double(low), highD = lowD + (x < 0 ? -step : step)
        let dLow = abs(Double(x) - lowD), dHigh = abs(highD - Double(x))
        let takeHigh = dHigh < dLow || (dHigh == dLow && (low.bitPattern >> 16) & 1 == 1)
        guard takeHigh else { return low }
        return abs(highD) >= 0x1p128 ? (x < 0 ? -.infinity : .infinity) : Float(highD)
    }

    static func referenceF16(_ x: Float) -> Float { Float(Float16(x)) }

    static func reference(_ x: Float, grid: Int32) -> Float {
        switch grid {
        case Int32(CKD_GRID_F16): return referenceF16(x)
        case Int32(CKD_GRID_BF16): return referenceBF16(x)
        default: return x
        }
    }

    static func same(_ x: Float, _ y: Float) -> Bool { x == y || (x.isNaN && y.isNaN) }

    /// Values of every kind the check must classify: normal weights, values past the F16 range,
    /// values in F16's subnormal range and below it, signed zeros, NaN and infinities.
    static func sample(count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            switch i % 29 {
            case 3: return 70000 * (i % 2 == 0 ? 1 : -1)
            case 5: return 65519.99
            case 7: return 3e-8
            case 11: return 1e-7 * rng.normal(1)
            case 13: return -0.0
            case 17: return i % 3 == 0 ? .nan : .infinity
            case 19: return Float.greatestFiniteMagnitude * (i % 2 == 0 ? 1 : -1)
            case 23: return 0x1.2p-133 * Float(i % 5)   // binary32 subnormals
            default: return rng.normal(0.02)
            }
        }
    }

    private func check(_ a: [Float], _ b: [Float], gridB: Int32, gridA: Int32, level: Int32) -> ckd_cast_counts {
        var counts = ckd_cast_counts()
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                ckd_cast_check_at(level, pa.baseAddress, pb.baseAddress, pa.count, gridB, gridA, &counts)
            }
        }
        return counts
    }

    @Test("the BF16 reference rounds ties to even and overflows past the largest bfloat16")
    func referenceRounding() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to the even (1).
        #expect(Self.referenceBF16(1 + 0x1p-8) == 1)
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
        #expect(Self.referenceBF16(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
        #expect(Self.referenceBF16(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7)
        #expect(Self.referenceBF16(.greatestFiniteMagnitude) == .infinity)
        #expect(Self.referenceBF16(Float(bitPattern: 0x7f7f_0000)) == Float(bitPattern: 0x7f7f_0000))
        #expect(Self.referenceF16(70000) == .infinity && Self.referenceF16(65519) == 65504)
    }

    @Test("a clean cast: every element exact, overflows counted apart",
          arguments: [Int32(CKD_GRID_F16), Int32(CKD_GRID_BF16)], KernelLevel.available.map(\.code))
    func cleanCast(grid: Int32, level: Int32) {
        let a = Self.sample(count: 4099, seed: 11)
        let b = a.map { Self.reference($0, grid: grid) }
        let counts = check(a, b, gridB: grid, gridA: Int32(CKD_GRID_F32), level: level)
        let overflow = zip(a, b).filter { $0.0.isFinite && $0.1.isInfinite }.count
        #expect(overflow > 0)
        #expect(counts.overflow == overflow)
        #expect(counts.exact == a.count - overflow)
        #expect(counts.flushed == 0 && counts.nan == 0 && counts.mismatch == 0)
        // A (F32) is B rounded to F32 only where the cast changed nothing.
        let reverse = zip(a, b).filter { !Self.same($0.0, $0.1) }.count
        #expect(counts.reverse_mismatch == reverse)
    }

    @Test("flushes, new NaN and other changes are told apart", arguments: KernelLevel.available.map(\.code))
    func injectedFaults(level: Int32) {
        for grid in [Int32(CKD_GRID_F16), Int32(CKD_GRID_BF16), Int32(CKD_GRID_F32)] {
            let a = Self.sample(count: 5003, seed: 23)
            var b = a.map { Self.reference($0, grid: grid) }
            // Eligible: finite, non-zero, rounding to a finite non-zero value below 1 in magnitude.
            let eligible = a.indices.filter {
                let r = Self.reference(a[$0], grid: grid)
                return a[$0].isFinite && a[$0] != 0 && r.isFinite && r != 0 && abs(r) < 1
            }
            var flushed = 0, nan = 0, other = 0
            for (k, i) in eligible.enumerated() where k % 7 == 0 {
                switch k % 3 {
                case 0: b[i] = 0; flushed += 1
                case 1: b[i] = .nan; nan += 1
                default: b[i] = abs(b[i]) + 1; other += 1
                }
            }
            let counts = check(a, b, gridB: grid, gridA: 0, level: level)
            let overflow = zip(a, b).filter { $0.0.isFinite && $0.1.isInfinite }.count
            #expect(counts.flushed == flushed, "grid \(grid)")
            #expect(counts.nan == nan, "grid \(grid)")
            #expect(counts.mismatch == other, "grid \(grid)")
            #expect(counts.overflow == overflow, "grid \(grid)")
            #expect(counts.exact == a.count - flushed - nan - other - overflow, "grid \(grid)")
            #expect(counts.reverse_mismatch == 0)
        }
    }

    @Test("the reverse check: A as B rounded to A's grid", arguments: KernelLevel.available.map(\.code))
    func reverse(level: Int32) {
        // A holds F16 values, B their BF16 casts: is A the F16 cast of B? Only where double rounding agrees.
        let a = Self.sample(count: 3001, seed: 5).map { Self.referenceF16($0) }
        let b = a.map { Self.referenceBF16($0) }
        let counts = check(a, b, gridB: Int32(CKD_GRID_BF16), gridA: Int32(CKD_GRID_F16), level: level)
        let expected = zip(a, b).filter { !Self.same($0.0, Self.referenceF16($0.1)) }.count
        #expect(expected > 0)
        #expect(counts.reverse_mismatch == expected)
        #expect(counts.mismatch == 0 && counts.flushed == 0 && counts.nan == 0)
    }
}
