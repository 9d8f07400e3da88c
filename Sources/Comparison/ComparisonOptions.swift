#if canImport(Glibc)
import Glibc
#endif

/// How a comparison runs: tolerances and parallelism.
public struct ComparisonOptions: Sendable {
    /// One tolerance for every floating-point pair instead of the per-dtype defaults, or nil.
    public var tolerance: Tolerance?
    /// Worker threads; the report is the same for every value.
    public var threads: Int
    /// Elements per unit of parallel work. Units are cut from tensors by this fixed
    /// size, never by the thread count, so results merge in the same order always.
    public var unitElements: Int
    /// The largest tensor, in elements, compared through a transpose (which needs both views in memory).
    public var transposeLimit: Int
    /// Where the dot products of `Float` data are computed.
    public var numerics: Numerics

    public init(tolerance: Tolerance? = nil, threads: Int = ComparisonOptions.defaultThreads,
                unitElements: Int = 1 << 22, transposeLimit: Int = 1 << 22, numerics: Numerics = .fused) {
        self.tolerance = tolerance
        self.threads = max(1, threads)
        self.unitElements = max(Kernels.blockElements, unitElements)
        self.transposeLimit = transposeLimit
        self.numerics = numerics
    }

    /// The number of online processors.
    public static var defaultThreads: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}

/// Where the four dot products (Σa², Σb², Σab, Σd²) of `Float` data are computed.
///
/// Both give the same counts, maxima and histograms; the sums agree to about 1e-7
/// relative. `Double` data (F64, 32- and 64-bit integers) always uses `cblas_ddot`.
public enum Numerics: String, Sendable, CaseIterable {
    /// In the fused block pass: products summed in `Float` over runs of 128 elements per
    /// lane, each run added in `Double`. The default: the fastest measured (BENCHMARKS.md).
    case fused
    /// By `cblas_dsdot` (float data, double accumulation) over each cache-resident block
    /// after the counting pass.
    case cblas
}
