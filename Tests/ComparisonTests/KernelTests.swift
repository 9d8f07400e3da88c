import CKDiffShims
import CKDiffTestSupport
import Testing

@Suite("Block kernel")
struct KernelTests {
    /// Runs one kernel over copies of the inputs.
    private func run(_ a: [Float], _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-3, running: Float = 0,
                     level: Int32) -> (ckd_block_stats, a: [Float], b: [Float], d: [Float]) {
        var a = a, b = b
        var d = [Float](repeating: .nan, count: a.count)
        var stats = ckd_block_stats()
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                d.withUnsafeMutableBufferPointer { pd in
                    if level == 0 {
                        ckd_block_compare_portable(pa.baseAddress, pb.baseAddress, pd.baseAddress, pa.count, atol, rtol, running, 1, &stats)
                    } else {
                        ckd_block_compare_at(level, pa.baseAddress, pb.baseAddress, pd.baseAddress, pa.count, atol, rtol, running, 1, &stats)
                    }
                }
            }
        }
        return (stats, a, b, d)
    }

    private func histogram(_ s: ckd_block_stats) -> [Int64] {
        withUnsafeBytes(of: s.histogram) { Array($0.bindMemory(to: Int64.self)) }
    }

    /// The code paths: 0 portable, 1 AVX2, 2 AVX-512 (a level the CPU lacks runs the next one down).
    static let levels: [Int32] = [0, 1, 2]

    @Test("hand-worked element semantics", arguments: levels)
    func handWorked(level: Int32) {
        // 16 elements so the vector path sees two groups of 8, one with non-finite values.
        let inf = Float.infinity
        let a: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 1, .nan, .nan, inf, inf, 0.5, 70000, 1e-3]
        let b: [Float] = [1, 2.001, 3, 4.5, 5, 6, 0, 8, 1, .nan, 1, inf, -inf, .nan, 70000, 0]
        let (s, za, zb, d) = run(a, b, level: level)
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
        // d is 0 where the pair is not finite; a and b are zeroed there too by the paths that leave
        // the dot products to the caller's cblas (the AVX-512 path sums itself and leaves them)
        for i in [9, 10, 11, 12, 13] { #expect(d[i] == 0) }
        if min(level, ckd_simd_level()) < 2 {
            for i in [9, 10, 11, 12, 13] { #expect(za[i] == 0 && zb[i] == 0) }
        }
        if min(level, ckd_simd_level()) >= 2 {
            // AVX-512 groups are 16 wide: this one holds non-finite values, so all of it is zeroed.
            #expect(d[3] == 0 && d[6] == 0)
        } else {
            #expect(d[3] == 0.5 && d[6] == 7)
        }
        // histogram: zeros at 0,2,4,5,7,8,14 (7); idx1 (0.00099993) → "<=1e-3"; idx15 is Float(1e-3),
        // which is above the decimal 1e-3, → "<=1e-2"; 0.5 → "<=1"; 7 → "<=10"
        let h = histogram(s)
        #expect(h[0] == 7)
        #expect(h[6] == 1 && h[7] == 1)
        #expect(h[9] == 1 && h[10] == 1)
        #expect(h.reduce(0, +) == 11)
    }

    @Test("the AVX2 and AVX-512 paths agree with the portable one on random data with sprinkled non-finite values",
          arguments: [Int32(1), 2])
    func pathsAgree(level: Int32) {
        var rng = SeededGenerator(seed: 7)
        for trial in 0..<20 {
            let n = 1 + Int(rng.next() % 5000)
            var a = (0..<n).map { _ in rng.normal(0.02) }
            var b = a.map { $0 + rng.normal(1e-4) }
            for _ in 0..<(trial % 4) * 3 {
                let i = Int(rng.next() % UInt64(n))
                switch rng.next() % 4 {
                case 0: a[i] = .nan
                case 1: b[i] = .infinity
                case 2: b[i] = 0
                default: a[i] = b[i]
                }
            }
            let running: Float = trial % 3 == 0 ? 0 : 1e-4
            let fast = run(a, b, running: running, level: level)
            let slow = run(a, b, running: running, level: 0)
            #expect(fast.0.finite_pairs == slow.0.finite_pairs)
            #expect(fast.0.mismatched == slow.0.mismatched)
            #expect(fast.0.a_nan == slow.0.a_nan && fast.0.b_inf == slow.0.b_inf)
            #expect(fast.0.new_nonfinite == slow.0.new_nonfinite)
            #expect(fast.0.underflow_to_zero == slow.0.underflow_to_zero)
            #expect(fast.0.max_index == slow.0.max_index)
            #expect(fast.0.max_abs == slow.0.max_abs)
            #expect(histogram(fast.0) == histogram(slow.0))
            // the vector path sums runs of 128 elements in float before double: agree to 1e-6
            func close(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= 1e-6 * max(1e-30, abs(y)) }
            #expect(close(fast.0.sum_abs, slow.0.sum_abs))
            #expect(close(fast.0.sum_aa, slow.0.sum_aa) && close(fast.0.sum_bb, slow.0.sum_bb))
            #expect(close(fast.0.sum_ab, slow.0.sum_ab) && close(fast.0.sum_dd, slow.0.sum_dd))
            if fast.0.a_nan + fast.0.a_inf + fast.0.b_nan + fast.0.b_inf == 0 {
                #expect(fast.d == slow.d && fast.a == slow.a && fast.b == slow.b)
            }
        }
    }

    @Test("the first of tied maxima is reported, and only when it beats the running maximum", arguments: levels)
    func ties(level: Int32) {
        var a = [Float](repeating: 0, count: 40)
        var b = a
        b[5] = 0.25
        b[30] = -0.25
        a[33] = 1
        b[33] = 1.25
        let first = run(a, b, level: level).0
        #expect(first.max_abs == 0.25 && first.max_index == 5)
        let notBeaten = run(a, b, running: 0.25, level: level).0
        #expect(notBeaten.max_index == -1)
        b[12] = 0.5
        let later = run(a, b, running: 0.25, level: level).0
        #expect(later.max_abs == 0.5 && later.max_index == 12)
    }
}

/// The fused raw-data kernel against decoding plus the separate portable routines.
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

    /// Runs the fused kernel on raw data with every combination of its flags (both ways of rounding
    /// to bfloat16 where the CPU has the instruction; expecting an exact cast or not) and expects the
    /// results of decoding plus the portable routines. Returns the fused cast counts of the last run,
    /// or nil on a CPU without the fused kernel.
    @discardableResult
    func check(_ rawA: [UInt8], _ ta: Raw, _ rawB: [UInt8], _ tb: Raw, count n: Int, running: Float,
               _ label: String) -> ckd_cast_counts? {
        var last: ckd_cast_counts?
        let instruction = Int32(CKD_RAW_BF16_INSTRUCTION), exact = Int32(CKD_RAW_EXACT_CAST_SO_FAR)
        let flagSets: [Int32] = ckd_avx512bf16_available() == 1 ? [0, exact, instruction, instruction | exact] : [0, exact]
        // A tight relative tolerance, and BF16's default, which no exact BF16 cast can exceed.
        for (atol, rtol): (Float, Float) in [(1e-5, 1e-3), (1e-5, 1.6e-2)] {
        for flags in flagSets {
            var fused = ckd_block_stats(), fusedCast = ckd_cast_counts()
            var d = [Float](repeating: .nan, count: n)
            let ran = rawA.withUnsafeBytes { pa in
                rawB.withUnsafeBytes { pb in
                    d.withUnsafeMutableBufferPointer { pd in
                        ckd_block_compare_raw_using(flags, pa.baseAddress, ta.rawValue, pb.baseAddress, tb.rawValue,
                                                    pd.baseAddress, n, atol, rtol, running, &fused, &fusedCast)
                    }
                }
            }
            // A CPU without AVX-512 has no fused kernel: the caller falls back, nothing to compare.
            guard ran == 1 else { return nil }
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
            let context = "\(ta)/\(tb) \(label) n \(n) flags \(flags) rtol \(rtol)"
            #expect(fused.finite_pairs == reference.finite_pairs && fused.mismatched == reference.mismatched, "\(context)")
            #expect(fused.a_nan == reference.a_nan && fused.a_inf == reference.a_inf, "\(context)")
            #expect(fused.b_nan == reference.b_nan && fused.b_inf == reference.b_inf, "\(context)")
            #expect(fused.new_nonfinite == reference.new_nonfinite && fused.underflow_to_zero == reference.underflow_to_zero, "\(context)")
            #expect(fused.a_beyond_f16 == reference.a_beyond_f16, "\(context)")
            #expect(fused.max_index == reference.max_index && fused.max_abs == reference.max_abs, "\(context)")
            let hf = withUnsafeBytes(of: fused.histogram) { Array($0.bindMemory(to: Int64.self)) }
            let hr = withUnsafeBytes(of: reference.histogram) { Array($0.bindMemory(to: Int64.self)) }
            #expect(hf == hr, "\(context)")
            func close(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= 1e-6 * max(1e-30, abs(y)) }
            // Σab can cancel (a value of 70000 in A over a small one in B): its float runs are
            // accurate relative to Σ|ab|, not to Σab itself.
            var sumAbsAB = 0.0
            for (x, y) in zip(da, db) where x.isFinite && y.isFinite { sumAbsAB += abs(Double(x) * Double(y)) }
            #expect(close(fused.sum_abs, reference.sum_abs) && close(fused.sum_aa, reference.sum_aa), "\(context)")
            #expect(close(fused.sum_bb, reference.sum_bb), "\(context)")
            #expect(abs(fused.sum_ab - reference.sum_ab) <= 1e-6 * max(1e-30, sumAbsAB),
                    "\(context): Σab \(fused.sum_ab) against \(reference.sum_ab), Σ|ab| \(sumAbsAB)")
            #expect(close(fused.sum_dd, reference.sum_dd), "\(context)")
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

    @Test("counts, maximum, histogram and cast counts equal the decode-then-portable path; sums to 1e-6",
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
            guard let counts = check(rawA, .f16, exact, .bf16, count: n, running: 0, "exact cast \(trial)") else { return }
            #expect(counts.exact == Int64(n) && counts.mismatch == 0, "every element is an exact cast")
            // One element off the cast: the block is checked again element by element.
            var broken = exact
            broken[2 * (n / 2)] ^= 1
            check(rawA, .f16, broken, .bf16, count: n, running: 0, "one element off \(trial)")
        }
    }
}
