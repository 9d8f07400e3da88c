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

    public init(tolerance: Tolerance? = nil, threads: Int = ComparisonOptions.defaultThreads,
                unitElements: Int = 1 << 22, transposeLimit: Int = 1 << 22) {
        self.tolerance = tolerance
        self.threads = max(1, threads)
        self.unitElements = max(Kernels.blockElements, unitElements)
        self.transposeLimit = transposeLimit
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

#if canImport(Glibc)
import Glibc
#endif
