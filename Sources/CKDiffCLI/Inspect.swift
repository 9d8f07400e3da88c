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
            are counted. Exit status 0, or 2 when the checkpoint cannot be read.
            """)

    @Argument(help: "A .safetensors file, a diffusers folder or a component folder.")
    var path: String

    @Option(help: ArgumentHelp("Diffusers weight variant to read (e.g. fp16).", valueName: "NAME"))
    var variant: String?

    @Flag(help: "Print the report as JSON on standard output.")
    var json = false

    @Flag(help: "Read every tensor and count NaN, ±Inf and values beyond the F16 range.")
    var scan = false

    @Option(help: "Worker threads for --scan (default: online processors).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func execute(in console: Console) throws -> ExitCode {
        let checkpoint = try Checkpoint.open(path, variant: variant)
        let identity = checkpoint.identify()
        let counts = scan ? try TensorScanner(checkpoint, threads: threads ?? ComparisonOptions.defaultThreads).run() : nil
        let report = InspectReport(checkpoint, identity: identity, scan: counts)
        if json {
            try console.write(try report.jsonData())
        } else {
            try console.write(report.terminalText())
        }
        return ExitStatus.same
    }
}
