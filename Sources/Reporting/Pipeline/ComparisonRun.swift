import Checkpoints
import Comparison
import Foundation

/// The whole comparison as one library call: paths in, a gated report out.
///
/// Open → align → compare → EMA analysis → diagnose → report → policy → baseline. The executable's
/// `compare` and `batch`, and in-process tests, all run comparisons through this type; nothing in it
/// prints or exits.
///
/// ```swift
/// let run = ComparisonRun(a: "model.safetensors", b: "export/")
/// let (report, _) = try run.run()
/// print(report.summary.exitCode)
/// ```
public struct ComparisonRun {
    /// The reference checkpoint A: a file or folder path.
    public var a: String
    /// The checkpoint B compared with A.
    public var b: String
    /// Diffusers weight variant for A (e.g. `fp16`), or nil for the plain weights.
    public var variantA: String?
    /// Diffusers weight variant for B.
    public var variantB: String?
    /// Tolerances and fail-on categories.
    public var policy: Policy
    /// A baseline to gate against, with the path it was read from (named in the report).
    public var baseline: (Baseline, path: String)?
    /// Worker threads.
    public var threads: Int
    /// Where dot products of float data are computed.
    public var numerics: Numerics
    /// Which weights stand for each side's UNet (`--ema`).
    public var ema: EMASelection
    /// Called with (bytes done, bytes in all) while tensors are read; from worker threads.
    public var progress: (@Sendable (Int64, Int64) -> Void)?

    /// A comparison of `a` and `b` under the default policy, on every online processor.
    public init(a: String, b: String, variantA: String? = nil, variantB: String? = nil, policy: Policy = .default,
                baseline: (Baseline, path: String)? = nil, threads: Int = ComparisonOptions.defaultThreads,
                numerics: Numerics = .fused, ema: EMASelection = .live,
                progress: (@Sendable (Int64, Int64) -> Void)? = nil) {
        self.a = a
        self.b = b
        self.variantA = variantA
        self.variantB = variantB
        self.policy = policy
        self.baseline = baseline
        self.threads = threads
        self.numerics = numerics
        self.ema = ema
        self.progress = progress
    }

    /// Opens both checkpoints, compares them and builds the gated report; every failure is thrown.
    ///
    /// - Returns: The report (policy and baseline applied) and the seconds spent from the first
    ///   tensor read to the diagnosis.
    public func run() throws -> (report: ComparisonReport, seconds: Double) {
        // Schemes and identities are read once here and handed to every stage that needs them.
        let (openedA, openedB) = try OpenedCheckpoint.openPair((a, variantA), (b, variantB))
        let checkpointA = openedA.checkpoint, checkpointB = openedB.checkpoint
        let schemeA = openedA.scheme, schemeB = openedB.scheme
        let alignment = try Aligner(checkpointA, scheme: schemeA, checkpointB, scheme: schemeB, ema: ema).alignment()
        let options = ComparisonOptions(threads: threads, numerics: numerics, toleranceResolver: policy.toleranceResolver)
        let started = Date()
        let comparator = Comparator(options: options)
        let comparisons = try comparator.compare(alignment, progress: progress)
        // One side alone holds an EMA copy: measure the other side's UNet against its other weights too.
        let analysis = try EMAAnalysis.run(alignment, comparisons: comparisons, selection: ema, options: options,
                                           schemes: (schemeA, schemeB), progress: progress)
        let diagnosis = try Diagnoser(alignment, options: options).run(comparisons, ema: analysis)
        let seconds = Date().timeIntervalSince(started)
        // The policy, then the baseline, decide the outcome once, as the report is built.
        let report = ComparisonReport(
            alignment, identities: (openedA.identity, openedB.identity), comparisons: comparisons, tolerance: nil,
            emaSelection: ema, emaAnalysis: analysis, diagnosis: diagnosis, policy: policy, baseline: baseline)
        return (report, seconds)
    }
}
