#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import CKDiffShims
import Safetensors

/// The numeric kernels behind ``TensorComparison``, on blocks of decoded values.
///
/// `Float` blocks go through the fused C pass (`ckd_block_compare`: counts,
/// maximum, histogram, Σ|d| and, by default, the four dot products, all ending
/// in `Double`, in one summation order at every ``KernelLevel``); with ``Numerics/cblas`` the dot products come from
/// `cblas_dsdot` instead. `Double` blocks (F64 and wide integers) use the
/// routine below with the same definitions, its dot products from `cblas_ddot`.
enum Kernels {
    /// Elements per block: three `Float` blocks (a, b, d) stay in L1/L2 cache.
    static let blockElements = 4096

    /// Compares a block of `Float` values in place (a and b are zeroed where the pair is not finite).
    ///
    /// - Parameters:
    ///   - a, b, d: `count` floats each; `d` receives |b − a|.
    ///   - base: The flat index of the block's first element in the tensor.
    @inline(__always)
    static func compareFloatBlock(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                  _ d: UnsafeMutablePointer<Float>, count: Int, base: Int,
                                  tolerance: Tolerance, numerics: Numerics, into stats: inout BlockStatistics) {
        var s = ckd_block_stats()
        let running = Float(stats.maxAbs)
        let fused = numerics == .fused
        ckd_block_compare(a, b, d, count, Float(tolerance.atol), Float(tolerance.rtol), running, fused ? 1 : 0, &s)
        // Without fused sums the kernel still sums the pairs it zeroed (see ckd_block_compare).
        stats.add(s, base: base)
        if !fused {
            let n = Int32(count)
            stats.sumSquaresA += cblas_dsdot(n, a, 1, a, 1)
            stats.sumSquaresB += cblas_dsdot(n, b, 1, b, 1)
            stats.sumProducts += cblas_dsdot(n, a, 1, b, 1)
            stats.sumSquaresDiff += cblas_dsdot(n, d, 1, d, 1)
        }
    }

    /// Decodes, compares and cast-checks a block straight from raw F32/F16/BF16 data (`ckd_block_compare_raw`).
    ///
    /// The same results, bit for bit, as decoding, ``compareFloatBlock(_:_:_:count:base:tolerance:numerics:into:)``
    /// with fused sums and `ckd_cast_check`, at every ``KernelLevel``. Returns false, having done
    /// nothing, for a dtype code the kernel does not read: the caller then decodes.
    @inline(__always)
    static func compareRawBlock(_ rawA: UnsafeRawPointer, _ codeA: Int32, _ rawB: UnsafeRawPointer, _ codeB: Int32,
                                _ d: UnsafeMutablePointer<Float>, count: Int, base: Int, tolerance: Tolerance,
                                into stats: inout BlockStatistics) -> Bool {
        var s = ckd_block_stats()
        var c = ckd_cast_counts()
        guard ckd_block_compare_raw(rawA, codeA, rawB, codeB, d, count, Float(tolerance.atol), Float(tolerance.rtol),
                                    Float(stats.maxAbs), &s, &c) != 0 else { return false }
        stats.add(s, base: base)
        if codeA != codeB { stats.cast.add(c) }
        return true
    }

    /// Compares a block of `Double` values with the definitions of ``TensorComparison``.
    ///
    /// Counts and the maximum are taken element by element; the four sums come from
    /// `cblas_ddot` over the block once non-finite pairs are zeroed (`d` receives b − a).
    static func compareDoubleBlock(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>,
                                   _ d: UnsafeMutablePointer<Double>, count: Int, base: Int,
                                   tolerance: Tolerance, into stats: inout BlockStatistics) {
        defer {
            let n = Int32(count)
            stats.sumSquaresA += cblas_ddot(n, a, 1, a, 1)
            stats.sumSquaresB += cblas_ddot(n, b, 1, b, 1)
            stats.sumProducts += cblas_ddot(n, a, 1, b, 1)
            stats.sumSquaresDiff += cblas_ddot(n, d, 1, d, 1)
        }
        for i in 0..<count {
            let av = a[i], bv = b[i]
            let fa = av.isFinite, fb = bv.isFinite
            if av.isNaN { stats.aNaN += 1 } else if !fa { stats.aInf += 1 }
            if bv.isNaN { stats.bNaN += 1 } else if !fb { stats.bInf += 1 }
            if fa && abs(av) > 65504 { stats.aBeyondF16 += 1 }
            guard fa && fb else {
                if fa { stats.newNonFinite += 1 }
                if !(av == bv || (av.isNaN && bv.isNaN)) { stats.mismatched += 1 }
                a[i] = 0
                b[i] = 0
                d[i] = 0
                continue
            }
            let dv = bv - av
            let ad = abs(dv)
            d[i] = dv
            stats.finitePairs += 1
            stats.sumAbs += ad
            if ad > tolerance.atol + tolerance.rtol * abs(av) { stats.mismatched += 1 }
            if av != 0 && bv == 0 { stats.underflowToZero += 1 }
            stats.histogram[bucket(of: ad)] += 1
            if ad > stats.maxAbs {
                stats.maxAbs = ad
                stats.maxIndex = base + i
            }
        }
    }

    /// The upper edges of the histogram buckets after the first (exact zero), read from the C
    /// kernel's one definition (`ckd_histogram_edge`).
    static let histogramEdges: [Double] = (0..<Int(CKD_HISTOGRAM_BUCKETS) - 1).map { ckd_histogram_edge(Int32($0)) }

    static func bucket(of ad: Double) -> Int {
        var k = 0
        while k < histogramEdges.count && ad > histogramEdges[k] { k += 1 }
        return k
    }

    /// Counts NaN and infinite values in raw data of a floating-point dtype, by bit pattern.
    ///
    /// Returns (nan, inf); used for bit-identical stretches, where nothing is decoded.
    static func countNonFinite(_ raw: UnsafeRawPointer, count: Int, dtype: DType) -> (nan: Int, inf: Int) {
        let mask: UInt32
        switch dtype {
        case .f16: mask = 0x7c00
        case .bf16: mask = 0x7f80
        case .f32: mask = 0x7f80_0000
        case .f64: mask = 0
        case .f8e5m2, .f8e4m3:
            return countNonFiniteDecoded(raw, count: count, dtype: dtype)
        default: return (0, 0)
        }
        if ckd_count_nonfinite_bits(raw, count, Int32(dtype.bitSize), mask) == 0 { return (0, 0) }
        return countNonFiniteDecoded(raw, count: count, dtype: dtype)
    }

    private static func countNonFiniteDecoded(_ raw: UnsafeRawPointer, count: Int, dtype: DType) -> (nan: Int, inf: Int) {
        var nan = 0, inf = 0
        let step = blockElements
        withUnsafeTemporaryAllocation(of: Double.self, capacity: step) { buffer in
            guard let base = buffer.baseAddress else { return }
            var done = 0
            while done < count {
                let n = min(step, count - done)
                dtype.decode(raw + done * dtype.bitSize / 8, count: n, into: base)
                for i in 0..<n {
                    if base[i].isNaN { nan += 1 } else if base[i].isInfinite { inf += 1 }
                }
                done += n
            }
        }
        return (nan, inf)
    }
}
