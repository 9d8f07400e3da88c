import Checkpoints
import Comparison
import Foundation
import Reporting

/// One comparison from paths to a report under a policy (and a baseline): what `compare` and `batch` share.
struct ComparisonRun {
    var a: String
    var b: String
    var variantA: String?
    var variantB: String?
    var policy: Policy
    var baseline: (Baseline, path: String)?
    var threads: Int
    var numerics: Numerics
    /// Which weights stand for each side's UNet (`--ema`).
    var ema: EMASelection = .live
    var showProgress: Bool

    /// Opens both checkpoints, compares them and builds the report; every failure is trouble.
    func run() throws -> (report: ComparisonReport, seconds: Double) {
        let checkpointA = try Checkpoint.open(a, variant: variantA)
        let checkpointB = try Checkpoint.open(b, variant: variantB)
        let plan = try AlignmentPlan.aligning(checkpointA, checkpointB, ema: ema)
        let options = ComparisonOptions(threads: threads, numerics: numerics, toleranceResolver: policy.toleranceResolver)
        let bar = showProgress ? ProgressBar.forStandardError() : nil
        var callback: (@Sendable (Int64, Int64) -> Void)?
        if let bar { callback = { done, total in bar.update(done, of: total) } }
        let started = Date()
        let comparisons = try Comparator(a: checkpointA, b: checkpointB, plan: plan, options: options)
            .run(progress: callback)
        // One side alone holds an EMA copy: measure the other side's UNet against its other weights too.
        let analysis = try EMAAnalysis.run(a: checkpointA, b: checkpointB, main: plan, comparisons: comparisons,
                                           selection: ema, options: options, progress: callback)
        bar?.finish()
        let diagnosis = try Diagnoser(a: checkpointA, b: checkpointB, plan: plan, options: options).run(comparisons)
        let seconds = Date().timeIntervalSince(started)
        let identityA = checkpointA.identify(), identityB = checkpointB.identify()
        var report = ComparisonReport(
            a: (checkpointA, identityA.layout.rawValue, identityA.architecture.rawValue),
            b: (checkpointB, identityB.layout.rawValue, identityB.architecture.rawValue),
            plan: plan, comparisons: comparisons, tolerance: nil,
            emaSelection: ema, emaAnalysis: analysis, diagnosis: diagnosis)
        report.apply(policy)
        if let baseline { report.apply(baseline.0, path: baseline.path) }
        return (report, seconds)
    }
}
