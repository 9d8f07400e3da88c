import CKDiffShims
import CKDiffTestSupport
@testable import Comparison
import Testing

/// The checks of the block kernel at one level; the suites below run them once per level, each
/// suite disabled, with its reason, where the CPU lacks its level.
enum KernelChecks {
    struct Run {
        var stats: ckd_block_stats
        var a: [Float], b: [Float], d: [Float]
    }

    /// Runs the decoded-value kernel at `level` over copies of the inputs.
    static func run(_ a: [Float], _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-3, running: Float = 0,
                    sums: Bool = true, level: KernelLevel) -> Run {
        var a = a, b = b
        var d = [Float](repeating: .nan, count: a.count)
        var stats = ckd_block_stats()
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                d.withUnsafeMutableBufferPointer { pd in
                    ckd_block_compare_at(level.code, pa.baseAddress, pb.baseAddress, pd.baseAddress, pa.count, atol, rtol,
                                         running, sums ? 1 : 0, &stats)
                }
            }
        }
        return Run(stats: stats, a: a, b: b, d: d)
    }

    static func histogram(_ s: ckd_block_stats) -> [Int64] {
        withUnsafeBytes(of: s.histogram) { Array($0.bindMemory(to: Int64.self)) }
    }

    /// The bytes of a value (statistics and counts compared bit for bit, sums included).
    static func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func handWorked(_ level: KernelLevel) {
        // 16 elements: one vector group, with non-finite values among finite ones.
        let inf = Float.infinity
        let a: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 1, .nan, .nan, inf, inf, 0.5, 70000, 1e-3]
        let b: [Float] = [1, 2.001, 3, 4.5, 5, 6, 0, 8, 1, .nan, 1, inf, -inf, .nan, 70000, 0]
        let r = run(a, b, level: level)
        let s = r.stats
        // finite pairs: indices 0-8, 14, 15 → 11
        #expect(s.finite_pairs == 11)
        // |d|: idx1 0.001 (> 1e-5 + 1e-3*2 = 0.00201? no: 0.001 <= 0.00201), idx3 0.5 (> 0.00401), idx6 7 (> 0.00701), idx15 1e-3 (> 1e-5+1e-6)
        // non-finite mismatches: idx10 (NaN vs 1), idx12 (inf vs -inf), idx13 (0.5 vs NaN); idx9 NaN/NaN and idx11 inf/inf match
        #expect(s.mismatched == 3 + 3)
        #expect(s.a_nan == 2 && s.a_inf == 2 && s.b_nan == 2 && s.b_inf == 2)
        #expect(s.new_nonfinite == 1)          // idx13
        #expect(s.underflow_to_zero == 2)      // idx6 (7 → 0) and idx15 (1e-3 → 0)
        #expect(s.a_beyond_f16 == 1)           // idx14
        #expect(s.max_abs == 7 && s.max_index == 6)
        let expectedSum = Double(Float(2.001) - 2) + 0.5 + 7 + Double(Float(1e-3))
        #expect(abs(s.sum_abs - expectedSum) < 1e-12)
        // Σa² over the finite pairs: small integers and 70000², exact in binary32 runs.
        let finite = [0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 15]
        let expectedAA = finite.map { Double(a[$0]) * Double(a[$0]) }.reduce(0, +)
        #expect(abs(s.sum_aa - expectedAA) <= 1e-6 * expectedAA)
        // d is |b - a| for finite pairs and 0 for the others, pair by pair; with sums a and b stay.
        for i in [9, 10, 11, 12, 13] { #expect(r.d[i] == 0) }
        #expect(r.d[3] == 0.5 && r.d[6] == 7 && r.d[0] == 0)
        #expect(r.a.elementsEqual(a, by: { $0.bitPattern == $1.bitPattern }))
        // Without sums (the caller takes the dot products with cblas) a and b are zeroed there too.
        let counts = run(a, b, sums: false, level: level)
        for i in [9, 10, 11, 12, 13] { #expect(counts.a[i] == 0 && counts.b[i] == 0) }
        #expect(counts.a[3] == 4 && counts.b[6] == 0 && counts.a[14] == 70000)
        #expect(counts.stats.sum_aa == 0 && counts.stats.sum_abs == s.sum_abs)
        // histogram: zeros at 0,2,4,5,7,8,14 (7); idx1 (0.00099993) → "<=1e-3"; idx15 is Float(1e-3),
        // which is above the decimal 1e-3, → "<=1e-2"; 0.5 → "<=1"; 7 → "<=10"
        let h = histogram(s)
        #expect(h[0] == 7)
        #expect(h[6] == 1 && h[7] == 1)
        #expect(h[9] == 1 && h[10] == 1)
        #expect(h.reduce(0, +) == 11)
    }

    static func ties(_ level: KernelLevel) {
        var a = [Float](repeating: 0, count: 40)
        var b = a
        b[5] = 0.25
        b[30] = -0.25
        a[33] = 1
        b[33] = 1.25
        let first = run(a, b, level: level).stats
        #expect(first.max_abs == 0.25 && first.max_index == 5)
        let notBeaten = run(a, b, running: 0.25, level: level).stats
        #expect(notBeaten.max_index == -1)
        b[12] = 0.5
        let later = run(a, b, running: 0.25, level: level).stats
        #expect(later.max_abs == 0.5 && later.max_index == 12)
    }

    /// Random values with sprinkled non-finite values, zeros, subnormals and values past binary16.
    static func sample(_ rng: inout SeededGenerator, count n: Int, specials: Int) -> (a: [Float], b: [Float]) {
        var a = (0..<n).map { _ in rng.normal(0.02) }
        var b = a.map { $0 + rng.normal(1e-4) }
        for _ in 0..<specials {
            let i = Int(rng.next() % UInt64(n))
            switch rng.next() % 8 {
            case 0: a[i] = .nan
            case 1: b[i] = .infinity
            case 2: b[i] = 0
            case 3: (a[i], b[i]) = (-0.0, 0.0)
            case 4: (a[i], b[i]) = (1e-40, 3e-40)
            case 5: a[i] = 70000
            case 6: b[i] = -.infinity
            default: a[i] = b[i]
            }
        }
        return (a, b)
    }

    /// The level against the scalar level, bit for bit: statistics (every sum's bits), |d|, zeroed
    /// inputs, and the cast counts of every pair of grids, on blocks of many lengths.
    static func bitIdentical(_ level: KernelLevel) {
        var rng = SeededGenerator(seed: 7)
        for trial in 0..<24 {
            let n = trial == 0 ? 4096 : trial == 1 ? 10_000 : 1 + Int(rng.next() % 5000)
            let (a, b) = sample(&rng, count: n, specials: (trial % 4) * 5)
            let running: Float = trial % 3 == 0 ? 0 : 1e-4
            for sums in [true, false] {
                let fast = run(a, b, running: running, sums: sums, level: level)
                let slow = run(a, b, running: running, sums: sums, level: .scalar)
                #expect(bytes(fast.stats) == bytes(slow.stats), "trial \(trial) sums \(sums)")
                #expect(fast.d.map(\.bitPattern) == slow.d.map(\.bitPattern), "trial \(trial)")
                #expect(fast.a.map(\.bitPattern) == slow.a.map(\.bitPattern) && fast.b.map(\.bitPattern) == slow.b.map(\.bitPattern))
            }
            for gridB in Int32(CKD_GRID_NONE)...Int32(CKD_GRID_BF16) {
                for gridA in Int32(CKD_GRID_NONE)...Int32(CKD_GRID_BF16) {
                    var fast = ckd_cast_counts(), slow = ckd_cast_counts()
                    ckd_cast_check_at(level.code, a, b, n, gridB, gridA, &fast)
                    ckd_cast_check_at(KernelLevel.scalar.code, a, b, n, gridB, gridA, &slow)
                    #expect(bytes(fast) == bytes(slow), "trial \(trial) grids \(gridB) \(gridA)")
                }
            }
        }
    }

    /// The sums against binary64 sums taken element by element here: within 1e-6 relative.
    static func sumsAgainstDouble(_ level: KernelLevel) {
        var rng = SeededGenerator(seed: 11)
        for trial in 0..<12 {
            let n = 1 + Int(rng.next() % 9000)
            let (a, b) = sample(&rng, count: n, specials: (trial % 3) * 4)
            let s = run(a, b, level: level).stats
            var abs_ = 0.0, aa = 0.0, bb = 0.0, ab = 0.0, dd = 0.0
            for (x, y) in zip(a, b) where x.isFinite && y.isFinite {
                let d = Double(y - x)
                abs_ += Swift.abs(d); dd += d * d
                aa += Double(x) * Double(x); bb += Double(y) * Double(y); ab += Double(x) * Double(y)
            }
            func close(_ x: Double, _ y: Double) -> Bool { Swift.abs(x - y) <= 1e-6 * max(1e-30, Swift.abs(y)) }
            #expect(close(s.sum_abs, abs_) && close(s.sum_dd, dd), "trial \(trial)")
            #expect(close(s.sum_aa, aa) && close(s.sum_bb, bb) && close(s.sum_ab, ab), "trial \(trial)")
        }
    }
}

@Suite("Block kernel, scalar level")
struct ScalarKernelTests {
    @Test("hand-worked element semantics") func handWorked() { KernelChecks.handWorked(.scalar) }
    @Test("the first of tied maxima is reported, and only when it beats the running maximum") func ties() { KernelChecks.ties(.scalar) }
    @Test("sums within 1e-6 of binary64 sums") func sums() { KernelChecks.sumsAgainstDouble(.scalar) }
}

@Suite("Block kernel, AVX2 level", .enabled(if: KernelLevel.avx2.isAvailable, "this CPU lacks AVX2 + FMA + F16C (or is not x86-64)"))
struct AVX2KernelTests {
    @Test("hand-worked element semantics") func handWorked() { KernelChecks.handWorked(.avx2) }
    @Test("the first of tied maxima is reported, and only when it beats the running maximum") func ties() { KernelChecks.ties(.avx2) }
    @Test("bit-identical to the scalar level") func bitIdentical() { KernelChecks.bitIdentical(.avx2) }
}

@Suite("Block kernel, AVX-512 level", .enabled(if: KernelLevel.avx512.isAvailable, "this CPU lacks AVX-512 F/BW/DQ/VL (or is not x86-64)"))
struct AVX512KernelTests {
    @Test("hand-worked element semantics") func handWorked() { KernelChecks.handWorked(.avx512) }
    @Test("the first of tied maxima is reported, and only when it beats the running maximum") func ties() { KernelChecks.ties(.avx512) }
    @Test("bit-identical to the scalar level") func bitIdentical() { KernelChecks.bitIdentical(.avx512) }
}

@Suite("Block kernel, NEON level", .enabled(if: KernelLevel.neon.isAvailable, "NEON runs on AArch64 only (the qemu test checks it from x86-64)"))
struct NEONKernelTests {
    @Test("hand-worked element semantics") func handWorked() { KernelChecks.handWorked(.neon) }
    @Test("the first of tied maxima is reported, and only when it beats the running maximum") func ties() { KernelChecks.ties(.neon) }
    @Test("bit-identical to the scalar level") func bitIdentical() { KernelChecks.bitIdentical(.neon) }
}

/// The fused raw-data kernel, at every level the CPU runs, against decoding plus the separate
/// routines at the scalar level: the same results bit for bit, sums included.
@Suite("Fused raw-data kernel")
struct RawKernelTests {
    enum Raw: Int32, CaseIterable {
        case f32 = 1, f16 = 2, bf16 = 3

        /// Encodes values as this dtype's little-endian bytes (F16 and BF16 by rounding or truncation).
        func encode(_ values: [Float]) -> [UInt8] {
            switch self {
            case .f32: return values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
            case .f16: return values.flatMap { withUnsafeBytes(of: Float16($0).bitPattern.littleEndian, Array.init) }
            case .bf16: return values.flatMap { withUnsafeBytes(of: UInt16($0.bitPattern >> 16).littleEndian, Array.init) }
            }
        }

        func decode(_ bytes: [UInt8], count: Int) -> [Float] {
            var out = [Float](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { o in
                    guard let base = raw.baseAddress, let dst = o.baseAddress else { return }
                    switch self {
                    case .f32: for i in 0..<count { dst[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                    case .f16: ckd_f16_to_f32_portable(base, dst, count)
                    case .bf16: for i in 0..<count { dst[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
                    }
                }
            }
            return out
        }

        var grid: Int32 { self == .f32 ? Int32(CKD_GRID_F32) : self == .f16 ? Int32(CKD_GRID_F16) : Int32(CKD_GRID_BF16) }
    }

    static let combinations: [(Raw, Raw)] = Raw.allCases.flatMap { a in Raw.allCases.map { (a, $0) } }

    /// Runs the fused kernel on raw data at every level the CPU runs and expects the results of decoding plus the routines
    /// on decoded values at the scalar level, bit for bit. Returns the fused cast counts of the last run.
    @discardableResult
    func check(_ rawA: [UInt8], _ ta: Raw, _ rawB: [UInt8], _ tb: Raw, count n: Int, running: Float,
               _ label: String) -> ckd_cast_counts {
        var last = ckd_cast_counts()
        // A tight relative tolerance, and BF16's default, which no exact BF16 cast can exceed.
        for (atol, rtol): (Float, Float) in [(1e-5, 1e-3), (1e-5, 1.6e-2)] {
        for level in KernelLevel.available {
            var fused = ckd_block_stats(), fusedCast = ckd_cast_counts()
            var d = [Float](repeating: .nan, count: n)
            let ran = rawA.withUnsafeBytes { pa in
                rawB.withUnsafeBytes { pb in
                    d.withUnsafeMutableBufferPointer { pd in
                        ckd_block_compare_raw_at(level.code, pa.baseAddress, ta.rawValue, pb.baseAddress, tb.rawValue,
                                                    pd.baseAddress, n, atol, rtol, running, &fused, &fusedCast)
                    }
                }
            }
            #expect(ran == 1)
            var da = ta.decode(rawA, count: n), db = tb.decode(rawB, count: n)
            var reference = ckd_block_stats(), referenceCast = ckd_cast_counts()
            var dr = [Float](repeating: .nan, count: n)
            if ta != tb { ckd_cast_check_portable(da, db, n, tb.grid, ta.grid, &referenceCast) }
            da.withUnsafeMutableBufferPointer { pa in
                db.withUnsafeMutableBufferPointer { pb in
                    dr.withUnsafeMutableBufferPointer { pd in
                        ckd_block_compare_portable(pa.baseAddress, pb.baseAddress, pd.baseAddress, n, atol, rtol, running, 1, &reference)
                    }
                }
            }
            let context = "\(ta)/\(tb) \(label) n \(n) level \(level) rtol \(rtol)"
            #expect(fused.finite_pairs == reference.finite_pairs && fused.mismatched == reference.mismatched, "\(context)")
            #expect(fused.a_nan == reference.a_nan && fused.a_inf == reference.a_inf, "\(context)")
            #expect(fused.b_nan == reference.b_nan && fused.b_inf == reference.b_inf, "\(context)")
            #expect(fused.new_nonfinite == reference.new_nonfinite && fused.underflow_to_zero == reference.underflow_to_zero, "\(context)")
            #expect(fused.a_beyond_f16 == reference.a_beyond_f16, "\(context)")
            #expect(fused.max_index == reference.max_index && fused.max_abs == reference.max_abs, "\(context)")
            let hf = withUnsafeBytes(of: fused.histogram) { Array($0.bindMemory(to: Int64.self)) }
            let hr = withUnsafeBytes(of: reference.histogram) { Array($0.bindMemory(to: Int64.self)) }
            #expect(hf == hr, "\(context)")
            // Every level sums in the same order: the same bits.
            #expect(fused.sum_abs.bitPattern == reference.sum_abs.bitPattern && fused.sum_aa.bitPattern == reference.sum_aa.bitPattern, "\(context)")
            #expect(fused.sum_bb.bitPattern == reference.sum_bb.bitPattern && fused.sum_ab.bitPattern == reference.sum_ab.bitPattern, "\(context)")
            #expect(fused.sum_dd.bitPattern == reference.sum_dd.bitPattern, "\(context)")
            #expect(d.map(\.bitPattern) == dr.map(\.bitPattern), "\(context)")
            if ta != tb {
                #expect(fusedCast.exact == referenceCast.exact && fusedCast.overflow == referenceCast.overflow, "\(context)")
                #expect(fusedCast.flushed == referenceCast.flushed && fusedCast.nan == referenceCast.nan, "\(context)")
                #expect(fusedCast.mismatch == referenceCast.mismatch, "\(context)")
                #expect(fusedCast.reverse_mismatch == referenceCast.reverse_mismatch, "\(context)")
            }
            last = fusedCast
        }
        }
        return last
    }

    @Test("counts, maximum, histogram, cast counts, |d| and sums equal the decode-then-scalar path bit for bit",
          arguments: combinations)
    func agrees(ta: Raw, tb: Raw) throws {
        var rng = SeededGenerator(seed: UInt64(ta.rawValue * 10 + tb.rawValue))
        for trial in 0..<12 {
            let n = trial == 0 ? 4096 : 1 + Int(rng.next() % 4096)
            var a = (0..<n).map { _ in rng.normal(0.02) }
            var b = a.map { trial % 3 == 0 ? $0 : $0 + rng.normal(1e-3) }
            for _ in 0..<(trial % 4) * 4 {
                let i = Int(rng.next() % UInt64(n))
                switch rng.next() % 10 {
                case 0: a[i] = .nan
                case 1: b[i] = .infinity
                case 2: b[i] = 0
                case 3: a[i] = 70000
                case 4: b[i] = .nan
                // Zeros of opposite signs, and values that round to a zero of the other sign:
                // equal as values, unequal as stored bits (the kernel compares bits).
                case 5: (a[i], b[i]) = (-0.0, 0.0)
                case 6: (a[i], b[i]) = (0.0, -1e-9)
                case 7: (a[i], b[i]) = (-1e-9, 0.0)
                // A binary32 subnormal, which vcvtneps2bf16 would read as zero.
                case 8: (a[i], b[i]) = (1e-40, 1e-40)
                default: a[i] = 1e-7
                }
            }
            check(ta.encode(a), ta, tb.encode(b), tb, count: n, running: trial % 2 == 0 ? 0 : 1e-3, "trial \(trial)")
        }
    }

    /// x rounded to bfloat16 (to nearest, ties to even), as stored bytes; x finite.
    static func bf16Rounded(_ values: [Float]) -> [UInt8] {
        values.flatMap { x -> [UInt8] in
            let u = x.bitPattern
            let r = UInt16(truncatingIfNeeded: (u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
            return withUnsafeBytes(of: r.littleEndian, Array.init)
        }
    }

    @Test("F16 against its exact BF16 cast: the reverse count, taken from |d| = 0 when every element is exact, equals the element-wise check")
    func exactBF16Cast() throws {
        var rng = SeededGenerator(seed: 77)
        // F16 values whose BF16 rounding leaves the F16 range (65504 -> 65536) or that are F16
        // subnormals, zeros of both signs, values exact in BF16, and random ones.
        let special: [Float] = [65504, -65504, 65472, 6e-8, -6e-8, 3e-5, 1e-6, 0, -0.0, 1, -2.5, 0.375, 1024]
        for trial in 0..<6 {
            let n = trial == 0 ? 4096 : 16 + Int(rng.next() % 4080)
            var a = (0..<n).map { _ in rng.normal(trial < 3 ? 0.02 : 3000) }
            for (k, value) in special.enumerated() where k < n { a[(k * 997) % n] = value }
            let rawA = Raw.f16.encode(a)
            let exact = Self.bf16Rounded(Raw.f16.decode(rawA, count: n))
            let counts = check(rawA, .f16, exact, .bf16, count: n, running: 0, "exact cast \(trial)")
            #expect(counts.exact == Int64(n) && counts.mismatch == 0, "every element is an exact cast")
            // One element off the cast: the block is checked again element by element.
            var broken = exact
            broken[2 * (n / 2)] ^= 1
            check(rawA, .f16, broken, .bf16, count: n, running: 0, "one element off \(trial)")
        }
    }
}
