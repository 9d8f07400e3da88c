import ArgumentParser
import Checkpoints
import Comparison
import Reporting

/// `ckdiff inspect PATH`: what a checkpoint file or folder is.
struct Inspect: ConsoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe one checkpoint: layout, architecture, components, dtypes, EMA, metadata.",
        discussion: """
            Reads headers only, unless --scan is given: then every floating-point tensor is read \
            (in bounded memory) and NaN, +Inf, -Inf and values beyond the F16 range (|x| > 65504) \
            are counted. Exit status 0, or 2 when the checkpoint cannot be read; with --fail-on, \
            1 when a listed problem is found (nonfinite and f16-overflow read every tensor, as --scan).
            """)

    @Argument(help: "A .safetensors file, a diffusers folder or a component folder.")
    var path: String

    @Option(help: ArgumentHelp("Diffusers weight variant to read (e.g. fp16).", valueName: "NAME"))
    var variant: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Write the report as JSON to FILE ('-', or --json alone, for standard output; a FILE not ending in .json is written --json=FILE).", valueName: "FILE"))
    var jsonPath: String?

    @Option(name: .customLong("fail-on"), parsing: .singleValue,
            help: ArgumentHelp("Fail (exit 1) when the checkpoint has one of these problems, comma-separated, repeatable: nonfinite, f16-overflow, dtype-mix, ema-partial, or default (nonfinite, dtype-mix, ema-partial).", valueName: "LIST"))
    var failOn: [String] = []

    @Flag(help: "Read every tensor and count NaN, ±Inf and values beyond the F16 range.")
    var scan = false

    @Option(help: "Worker threads for --scan (default: online processors).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        _ = try gateCategories()
    }

    /// The `--fail-on` categories, nil when none was asked for; a value naming none is refused.
    func gateCategories() throws -> [InspectFailOn]? {
        guard !failOn.isEmpty else { return nil }
        switch InspectFailOn.parse(failOn) {
        case .success(let list) where list.isEmpty:
            throw ValidationError("--fail-on names no category (\(failOn.map { "'\($0)'" }.joined(separator: " "))): give at least one, e.g. default")
        case .success(let list): return list
        case .failure(let unknown): throw ValidationError("--fail-on: \(unknown)")
        }
    }

    func execute(in console: Console) throws -> ExitCode {
        let targets = OutputTargets([("--json", jsonPath)])
        try targets.validate()
        let categories = try gateCategories()
        let checkpoint = try Checkpoint.open(path, variant: variant)
        let identity = checkpoint.identify()
        let reading = scan || (categories ?? []).contains(where: \.needsScan)
        let counts = reading ? try TensorScanner(checkpoint, threads: threads ?? ComparisonOptions.defaultThreads).run() : nil
        var report = InspectReport(checkpoint, identity: identity, scan: counts)
        if let categories { report = report.gated(by: categories) }
        if let jsonPath {
            try console.writeReport(try report.jsonData(), to: jsonPath, protecting: ProtectedInputs([path]))
        }
        if !targets.usesStandardOutput {
            try console.write(report.terminalText())
        }
        return report.gate?.failed == true ? ExitStatus.different : ExitStatus.same
    }
}
