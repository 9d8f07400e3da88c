import Checkpoints
import Safetensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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
    /// Chooses the tolerance of each pair (a policy's overrides), or nil for ``tolerance`` and the
    /// per-dtype defaults. Consulted for pairs with a floating-point side; integer and BOOL pairs stay exact.
    public var toleranceResolver: ToleranceResolver?

    public init(tolerance: Tolerance? = nil, threads: Int = ComparisonOptions.defaultThreads,
                unitElements: Int = 1 << 22, transposeLimit: Int = 1 << 22, numerics: Numerics = .fused,
                toleranceResolver: ToleranceResolver? = nil) {
        self.tolerance = tolerance
        self.toleranceResolver = toleranceResolver
        self.threads = max(1, threads)
        self.unitElements = max(Kernels.blockElements, unitElements)
        self.transposeLimit = transposeLimit
        self.numerics = numerics
    }

    /// The number of online processors.
    public static var defaultThreads: Int {
        #if canImport(Glibc) || canImport(Darwin)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        #error("defaultThreads needs sysconf(_SC_NPROCESSORS_ONLN): add this platform's C library")
        #endif
    }
}

/// Chooses the tolerance of one pair from what the pair is: its names, component and dtypes.
///
/// The comparison engine calls it once per pair before reading any value; a policy
/// (in the Reporting stage) supplies it, so the engine knows nothing of policies.
public struct ToleranceResolver: Sendable {
    /// What the resolver sees of a pair.
    public struct Pair: Sendable {
        /// The report name.
        public var name: String
        /// A's and B's tensor names.
        public var aName: String
        public var bName: String
        public var component: Component
        public var aDType: DType
        public var bDType: DType

        public init(name: String, aName: String, bName: String, component: Component, aDType: DType, bDType: DType) {
            self.name = name
            self.aName = aName
            self.bName = bName
            self.component = component
            self.aDType = aDType
            self.bDType = bDType
        }
    }

    private let body: @Sendable (Pair) -> Tolerance?

    /// A resolver; `body` returns nil to leave the pair to the defaults.
    public init(_ body: @escaping @Sendable (Pair) -> Tolerance?) {
        self.body = body
    }

    /// The tolerance for `pair`, or nil for the defaults.
    public func callAsFunction(_ pair: Pair) -> Tolerance? {
        body(pair)
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
