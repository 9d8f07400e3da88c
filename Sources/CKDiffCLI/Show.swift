import ArgumentParser
import Foundation
import Reporting

/// `ckdiff show report.json`: re-render a saved report without the checkpoints.
struct Show: ConsoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-render a saved JSON report (compare or batch) for a terminal, as Markdown or as JUnit.",
        discussion: """
            Reads only the report, never the checkpoints. Exit status: the one the report records \
            (0, 1, or 2 for a batch with trouble), or 2 when the report cannot be read.
            """)

    @Argument(help: "A report written by --json.")
    var report: String

    @Option(help: "Rows in the worst-first table.")
    var top = 20

    @Flag(help: "List every aligned pair and leftover.")
    var all = false

    @OptionGroup(title: "CI reports") var ci: CIOutputOptions

    @OptionGroup var output: OutputOptions

    @Flag(name: [.customShort("q"), .customLong("brief")],
          help: "Print one line (verdict, exit status, counts) instead of the terminal report.")
    var brief = false

    func execute(in console: Console) throws -> ExitCode {
        if top < 0 { throw ValidationError("--top must be ≥ 0") }
        let targets = OutputTargets(ci.outputs)
        try targets.validate()
        // A regular file of at most 32 MiB, no repeated member, no integer beyond ±2^60 (SavedJSON).
        let data: Data
        do { data = try SavedReport.read(report) } catch { throw ShowError(error.description) }
        if let batch = try? BatchReport.decode(data) {
            let status: RecordedExitStatus
            do { status = try batch.validatedExitStatus() } catch {
                throw ShowError("\(report): not a valid ckdiff batch report: \(error.description)")
            }
            try ci.write(markdown: { batch.markdown(top: top) }, junit: { batch.junit() },
                         annotations: { batch.githubAnnotations() }, protecting: [report], console: console,
                         annotationsOnStandardError: targets.usesStandardOutput)
            if !targets.usesStandardOutput { try console.write(batch.terminalText()) }
            return ExitCode(status.rawValue)
        }
        let comparison: ComparisonReport
        do {
            comparison = try ComparisonReport.decode(data)
        } catch {
            throw ShowError("\(report): not a ckdiff report: \(oneLine(error))")
        }
        let status: RecordedExitStatus
        do { status = try comparison.validatedExitStatus() } catch {
            throw ShowError("\(report): not a valid ckdiff report: \(error.description)")
        }
        try ci.write(markdown: { comparison.markdown(top: top) },
                     junit: { JUnitDocument(name: "ckdiff", suites: comparison.junitSuites()) },
                     annotations: { comparison.githubAnnotations() }, protecting: [report], console: console,
                     annotationsOnStandardError: targets.usesStandardOutput)
        if !targets.usesStandardOutput {
            if brief {
                try console.write(comparison.briefLine())
            } else {
                try console.write(comparison.terminalText(.init(top: top, all: all, colour: output.useColour(console))))
            }
        }
        return ExitCode(status.rawValue)
    }
}

/// A report that `show` cannot read.
struct ShowError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
