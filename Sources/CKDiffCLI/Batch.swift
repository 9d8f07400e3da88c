import ArgumentParser
import Comparison
import Foundation
import Reporting

/// `ckdiff batch MANIFEST`: every pair of a manifest, one combined report, one exit status.
struct Batch: ConsoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare every pair of a manifest (docs/batch.md) and write one combined report.",
        discussion: """
            Exit status: 2 if any pair had trouble, else 1 if any pair failed its gate, else 0. \
            Trouble on one pair is recorded and the other pairs are still compared. Policy: the \
            defaults, then the manifest's policy, then the pair's, then --policy and the options.
            """)

    @Argument(help: "The manifest: a JSON file listing the pairs.")
    var manifest: String

    @Option(name: .customLong("json"), help: ArgumentHelp("Write the combined JSON report to FILE ('-' for standard output).", valueName: "FILE"))
    var jsonPath: String?

    @Option(name: .customLong("save-baselines"), help: ArgumentHelp("Save each pair's baseline as DIR/NAME.json.", valueName: "DIR"))
    var saveBaselines: String?

    @Flag(name: .customLong("no-baselines"), help: "Ignore the manifest's baselines: gate by the policy alone (to record new ones with --save-baselines).")
    var noBaselines = false

    @Option(help: "Worker threads per comparison (default: online processors).")
    var threads: Int?

    @OptionGroup(title: "Policy (over the manifest's)") var policyOptions: PolicyOptions

    @OptionGroup(title: "CI reports") var ci: CIOutputOptions

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func reportTrouble(_ message: String, in console: Console) {
        ci.reportTrouble(message, pair: nil, protecting: [manifest], console: console)
    }

    func execute(in console: Console) throws -> ExitCode {
        let targets = OutputTargets([("--json", jsonPath)] + ci.outputs)
        try targets.validate()
        let list = try BatchManifest.read(manifest)
        var entries: [BatchReport.Entry] = []
        var inputs = [manifest] + [policyOptions.policyFile].compactMap { $0 }
        for pair in list.pairs {
            inputs += [pair.a, pair.b] + [noBaselines ? nil : pair.baseline].compactMap { $0 }
        }
        let protected = ProtectedInputs(inputs)
        if let saveBaselines {
            try FileManager.default.createDirectory(atPath: saveBaselines, withIntermediateDirectories: true)
        }
        for pair in list.pairs {
            do {
                let policy = try policyOptions.policy(between: [list.policy, pair.policy].compactMap { $0 })
                let baseline = try (noBaselines ? nil : pair.baseline).map { path throws(PolicyError) in (try Baseline.read(path), path: path) }
                let (report, _) = try ComparisonRun(
                    a: pair.a, b: pair.b, variantA: pair.aVariant ?? pair.variant, variantB: pair.bVariant ?? pair.variant,
                    policy: policy, baseline: baseline, threads: threads ?? ComparisonOptions.defaultThreads,
                    numerics: .fused, ema: pair.ema).run()
                if let saveBaselines {
                    let path = URL(fileURLWithPath: saveBaselines).appendingPathComponent("\(pair.name).json").path
                    var baseline = Baseline(report)
                    // Paths as the manifest gives them, so a committed baseline names no machine's folders.
                    baseline.inputs.a.path = pair.aAsGiven
                    baseline.inputs.b.path = pair.bAsGiven
                    try console.writeReport(try baseline.jsonData(), to: path, protecting: protected)
                }
                entries.append(BatchReport.Entry(name: pair.name, a: pair.a, b: pair.b, report: report))
            } catch let failure as ReportWriter.Failure {
                throw failure
            } catch let failure as Console.WriteFailure {
                throw failure
            } catch {
                console.printError("ckdiff: error: \(pair.name): \(oneLine(error))")
                entries.append(BatchReport.Entry(name: pair.name, a: pair.a, b: pair.b, trouble: oneLine(error)))
            }
        }
        let report = BatchReport(manifest: manifest, pairs: entries)
        // A failed write does not hide the result: the terminal report is printed, then the failure.
        var failure: (any Error)?
        if let jsonPath {
            do { try console.writeReport(try report.jsonData(), to: jsonPath, protecting: protected) } catch { failure = error }
        }
        do {
            try ci.write(markdown: { report.markdown() }, junit: { report.junit() },
                         annotations: { report.githubAnnotations() }, protecting: protected, console: console,
                         annotationsOnStandardError: targets.usesStandardOutput)
        } catch {
            failure = failure ?? error
        }
        if !targets.usesStandardOutput {
            try console.write(report.terminalText())
        }
        if let failure { throw failure }
        return ExitCode(Int32(report.summary.exitCode))
    }
}
