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
        // Schemes and identities are read once here and handed to every stage that needs them.
        let (openedA, openedB) = try OpenedCheckpoint.openPair((a, variantA), (b, variantB))
        let checkpointA = openedA.checkpoint, checkpointB = openedB.checkpoint
        let schemeA = openedA.scheme, schemeB = openedB.scheme
        let plan = try Aligner(checkpointA, scheme: schemeA, checkpointB, scheme: schemeB, ema: ema).plan()
        let options = ComparisonOptions(threads: threads, numerics: numerics, toleranceResolver: policy.toleranceResolver)
        let bar = showProgress ? ProgressBar.forStandardError() : nil
        var callback: (@Sendable (Int64, Int64) -> Void)?
        if let bar { callback = { done, total in bar.update(done, of: total) } }
        let started = Date()
        let comparisons = try Comparator(a: checkpointA, b: checkpointB, plan: plan, options: options)
            .run(progress: callback)
        // One side alone holds an EMA copy: measure the other side's UNet against its other weights too.
        let analysis = try EMAAnalysis.run(a: checkpointA, b: checkpointB, main: plan, comparisons: comparisons,
                                           selection: ema, options: options, schemes: (schemeA, schemeB),
                                           progress: callback)
        bar?.finish()
        let diagnosis = try Diagnoser(a: checkpointA, b: checkpointB, plan: plan, options: options)
            .run(comparisons, ema: analysis)
        let seconds = Date().timeIntervalSince(started)
        var report = ComparisonReport(
            a: (checkpointA, openedA.identity), b: (checkpointB, openedB.identity),
            plan: plan, comparisons: comparisons, tolerance: nil,
            emaSelection: ema, emaAnalysis: analysis, diagnosis: diagnosis)
        report.apply(policy)
        if let baseline { report.apply(baseline.0, path: baseline.path) }
        return (report, seconds)
    }
}
