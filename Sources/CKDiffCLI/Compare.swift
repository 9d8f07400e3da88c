import ArgumentParser
import Checkpoints
import Comparison
import Foundation
import Reporting

/// `ckdiff compare A B` (the default subcommand): compare checkpoint B against reference A.
struct Compare: ConsoleCommand {
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

    @Flag(name: [.customShort("q"), .customLong("brief")],
          help: "Print one line (verdict, exit status, counts) instead of the terminal report, like diff -q.")
    var brief = false

    @Option(help: ArgumentHelp(
        "Compare the EMA copy of side a, b or both in place of its live UNet (e.g. --ema a: A's EMA against B's UNet).",
        valueName: "a|b|both"))
    var ema: EMAChoice?

    @Option(help: "Worker threads (default: online processors).")
    var threads: Int?

    @Option(help: ArgumentHelp("Where dot products of float data are computed: fused (default) or cblas.", visibility: .hidden))
    var numerics: NumericsChoice = .fused

    @OptionGroup(title: "Policy") var policyOptions: PolicyOptions

    @OptionGroup(title: "Baselines") var baselineOptions: BaselineOptions

    @OptionGroup(title: "CI reports") var ci: CIOutputOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if top < 0 { throw ValidationError("--top must be ≥ 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func reportTrouble(_ message: String, in console: Console) {
        ci.reportTrouble(message, pair: nil, protecting: ProtectedInputs(protectedPaths), console: console,
                         annotationsOnStandardError: outputTargets.usesStandardOutput)
    }

    /// Files no output may overwrite: the checkpoints, the policy and the baseline.
    private var protectedPaths: [String] {
        [a, b] + [policyOptions.policyFile, baselineOptions.baselinePath].compactMap { $0 }
    }

    /// Every file this run writes.
    private var outputTargets: OutputTargets {
        OutputTargets([("--json", jsonPath), ("--save-baseline", baselineOptions.saveBaselinePath)] + ci.outputs)
    }

    func execute(in console: Console) throws -> ExitCode {
        let targets = outputTargets
        try targets.validate()
        let policy = try policyOptions.policy()
        let baseline = try baselineOptions.baselinePath.map { path throws(PolicyError) in try Baseline.read(path) }
        let (report, elapsed) = try ComparisonRun(
            a: a, b: b, variantA: input.variant(forA: true), variantB: input.variant(forA: false), policy: policy,
            baseline: baseline.flatMap { value in baselineOptions.baselinePath.map { (value, $0) } },
            threads: threads ?? ComparisonOptions.defaultThreads, numerics: numerics.value,
            ema: ema?.selection ?? .live).run(showingProgressOn: console)
        let protected = ProtectedInputs(protectedPaths)
        // A failed write does not hide the result: the terminal report is printed, then the failure.
        var failure: (any Error)?
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { failure = failure ?? error }
        }
        if let jsonPath {
            attempt { try console.writeReport(try report.jsonData(), to: jsonPath, protecting: protected) }
        }
        if let path = baselineOptions.saveBaselinePath {
            attempt { try console.writeReport(try Baseline(report).jsonData(), to: path, protecting: protected) }
        }
        attempt {
            try ci.write(markdown: { report.markdown() },
                         junit: { JUnitDocument(name: "ckdiff", suites: report.junitSuites(time: elapsed)) },
                         annotations: { report.githubAnnotations() }, protecting: protected, console: console,
                         annotationsOnStandardError: targets.usesStandardOutput)
        }
        if !targets.usesStandardOutput {
            if brief {
                try console.write(report.briefLine())
            } else {
                try console.write(report.terminalText(.init(top: top, all: all, colour: output.useColour(console))))
            }
        }
        if let failure { throw failure }
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

    /// Whether to colour the terminal report written to `console`.
    func useColour(_ console: Console) -> Bool {
        switch colour {
        case .always: return true
        case .never: return false
        case .auto:
            let noColour = console.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return !noColour && console.outputIsTerminal
        }
    }
}
