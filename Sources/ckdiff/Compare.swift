import ArgumentParser
import Checkpoints
import Comparison
import Foundation
import Reporting

/// `ckdiff compare A B` (the default subcommand): compare checkpoint B against reference A.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare checkpoint B against reference A (the default subcommand).",
        discussion: """
            A and B may be .safetensors files, diffusers folders or component folders. \
            Exit status: 0 equivalent within tolerance, 1 different, 2 trouble.

            EMA: an EMA copy of the UNet (LDM model_ema.*, diffusers unet_ema/) is compared \
            with the other side's EMA copy. One side's EMA copy that the other lacks is a \
            difference (exit 1). When one side alone has an EMA copy, ckdiff also measures the \
            other side's UNet against both its live and its EMA weights and says which it holds. \
            --ema a|b|both compares the chosen sides' EMA copies where their live UNets would be \
            (the live UNet and unused EMA tensors are then listed as set_aside, not as differences).
            """)

    @Argument(help: "The reference checkpoint A.")
    var a: String

    @Argument(help: "The checkpoint B to compare with A.")
    var b: String

    @OptionGroup var input: InputOptions

    @Option(name: .customLong("json"), help: ArgumentHelp("Write the JSON report to FILE ('-' for standard output).", valueName: "FILE"))
    var jsonPath: String?

    @Option(help: "Rows in the worst-first table.")
    var top = 20

    @Flag(help: "List every aligned pair and leftover.")
    var all = false

    @Option(help: "Absolute tolerance for every float pair (give --rtol too).")
    var atol: Double?

    @Option(help: "Relative tolerance for every float pair (give --atol too).")
    var rtol: Double?

    @Option(help: ArgumentHelp(
        "Compare the EMA copy of side a, b or both in place of its live UNet (e.g. --ema a: A's EMA against B's UNet).",
        valueName: "a|b|both"))
    var ema: EMAChoice?

    @Option(help: "Worker threads (default: online processors).")
    var threads: Int?

    @Option(help: ArgumentHelp("Where dot products of float data are computed: fused (default) or cblas.", visibility: .hidden))
    var numerics: NumericsChoice = .fused

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (atol == nil) != (rtol == nil) {
            throw ValidationError("--atol and --rtol go together: give both or neither")
        }
        if let atol, atol < 0 || !atol.isFinite { throw ValidationError("--atol must be a finite number ≥ 0") }
        if let rtol, rtol < 0 || !rtol.isFinite { throw ValidationError("--rtol must be a finite number ≥ 0") }
        if top < 0 { throw ValidationError("--top must be ≥ 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func run() throws {
        try runReportingTrouble(execute)
    }

    private func execute() throws -> ExitCode {
            let checkpointA = try Checkpoint.open(a, variant: input.variant(forA: true))
            let checkpointB = try Checkpoint.open(b, variant: input.variant(forA: false))
            let tolerance = atol.flatMap { atol in rtol.map { Tolerance(atol: atol, rtol: $0) } }
            let selection = ema?.selection ?? .live
            let plan = try AlignmentPlan.aligning(checkpointA, checkpointB, ema: selection)
            let options = ComparisonOptions(tolerance: tolerance, threads: threads ?? ComparisonOptions.defaultThreads,
                                            numerics: numerics.value)
            let bar = ProgressBar.forStandardError()
            var callback: (@Sendable (Int64, Int64) -> Void)?
            if let bar { callback = { done, total in bar.update(done, of: total) } }
            let comparisons = try Comparator(a: checkpointA, b: checkpointB, plan: plan, options: options)
                .run(progress: callback)
            // One side alone holds an EMA copy: measure the other side's UNet against its other weights too.
            let analysis = try EMAAnalysis.run(a: checkpointA, b: checkpointB, main: plan, comparisons: comparisons,
                                               selection: selection, options: options, progress: callback)
            bar?.finish()
            let diagnosis = try Diagnoser(a: checkpointA, b: checkpointB, plan: plan, options: options)
                .run(comparisons, ema: analysis)
            let identityA = checkpointA.identify(), identityB = checkpointB.identify()
            let report = ComparisonReport(
                a: (checkpointA, identityA.layout.rawValue, identityA.architecture.rawValue),
                b: (checkpointB, identityB.layout.rawValue, identityB.architecture.rawValue),
                plan: plan, comparisons: comparisons, tolerance: tolerance,
                emaSelection: selection, emaAnalysis: analysis, diagnosis: diagnosis)
            if let jsonPath {
                try ReportWriter.write(try report.jsonData(), to: jsonPath, protecting: [a, b])
            }
            if jsonPath != "-" {
                print(report.terminalText(.init(top: top, all: all, colour: output.useColour)), terminator: "")
            }
            return ExitCode(Int32(report.summary.exitCode))
    }
}

/// `--ema` values.
enum EMAChoice: String, ExpressibleByArgument, CaseIterable {
    case a, b, both

    var selection: EMASelection {
        switch self {
        case .a: return .a
        case .b: return .b
        case .both: return .both
        }
    }
}

/// `--numerics` values.
enum NumericsChoice: String, ExpressibleByArgument, CaseIterable {
    case fused, cblas

    var value: Numerics { self == .fused ? .fused : .cblas }
}

/// Which diffusers weight variant to read on each side.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Diffusers weight variant for both sides (e.g. fp16).", valueName: "NAME"))
    var variant: String?

    @Option(name: .customLong("a-variant"), help: ArgumentHelp("Variant for A only.", valueName: "NAME"))
    var aVariant: String?

    @Option(name: .customLong("b-variant"), help: ArgumentHelp("Variant for B only.", valueName: "NAME"))
    var bVariant: String?

    func variant(forA: Bool) -> String? {
        (forA ? aVariant : bVariant) ?? variant
    }
}

/// Terminal presentation.
struct OutputOptions: ParsableArguments {
    enum ColourChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Option(name: .customLong("color"), help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var colour: ColourChoice = .auto

    var useColour: Bool {
        switch colour {
        case .always: return true
        case .never: return false
        case .auto:
            let noColour = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return !noColour && isatty(1) == 1
        }
    }
}
