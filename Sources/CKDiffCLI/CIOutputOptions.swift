import ArgumentParser
import Foundation
import Reporting

/// Reports for CI, shared by `compare`, `batch` and `show`.
struct CIOutputOptions: ParsableArguments {
    @Option(name: .customLong("markdown"), help: ArgumentHelp("Write a Markdown summary (GitHub job summary) to FILE.", valueName: "FILE"))
    var markdownPath: String?

    @Option(name: .customLong("junit"), help: ArgumentHelp("Write JUnit XML to FILE: a suite per component, a case per check.", valueName: "FILE"))
    var junitPath: String?

    @Flag(help: "Append the Markdown summary to $GITHUB_STEP_SUMMARY and print ::error/::warning annotations.")
    var github = false

    /// The outputs these options ask for, as (option, path).
    var outputs: [(option: String, path: String?)] {
        [("--markdown", markdownPath), ("--junit", junitPath)]
    }

    /// Writes the Markdown and JUnit files, appends to the job summary and prints annotations.
    ///
    /// - Parameters:
    ///   - markdown: The Markdown text, built only when needed.
    ///   - junit: The JUnit document, built only when needed.
    ///   - annotations: The workflow commands for `--github`.
    ///   - annotationsOnStandardError: A report goes to standard output: the annotations go to
    ///     standard error so that the machine format on standard output stays whole.
    func write(markdown: () -> String, junit: () -> JUnitDocument, annotations: () -> [String],
               protecting inputs: ProtectedInputs, console: Console, annotationsOnStandardError: Bool = false) throws {
        if markdownPath != nil || github {
            let text = markdown()
            if let markdownPath { try console.writeReport(Data(text.utf8), to: markdownPath, protecting: inputs) }
            if github {
                if let summary = console.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
                    try ReportWriter.append(Data(text.utf8), to: summary, protecting: inputs)
                } else {
                    console.printError("ckdiff: note: --github: GITHUB_STEP_SUMMARY is not set, no job summary written")
                }
                let lines = annotations()
                if !lines.isEmpty {
                    let text = lines.joined(separator: "\n") + "\n"
                    if annotationsOnStandardError { console.writeError(text) } else { try console.write(text) }
                }
            }
        }
        if let junitPath {
            try console.writeReport(Data(junit().xml().utf8), to: junitPath, protecting: inputs)
        }
    }

    /// On trouble: a JUnit file with an errored case and an `::error` annotation, best effort (the trouble itself is reported by the caller).
    func reportTrouble(_ message: String, pair: String?, protecting inputs: ProtectedInputs, console: Console,
                       annotationsOnStandardError: Bool = false) {
        if let junitPath {
            let document = JUnitDocument(name: "ckdiff", suites: [ComparisonReport.troubleSuite(pair: pair, message: message)])
            try? console.writeReport(Data(document.xml().utf8), to: junitPath, protecting: inputs)
        }
        if github {
            let line = GitHubCommand.annotation("error", file: nil, title: "ckdiff trouble", message: message)
            if annotationsOnStandardError { console.writeError(line + "\n") } else { try? console.write(line + "\n") }
        }
    }
}

/// `--baseline` and `--save-baseline`.
struct BaselineOptions: ParsableArguments {
    @Option(name: .customLong("baseline"), help: ArgumentHelp("Hold the comparison against a baseline: exit 1 only on regression.", valueName: "FILE"))
    var baselinePath: String?

    @Option(name: .customLong("save-baseline"), help: ArgumentHelp("Save this comparison as a baseline (per-tensor statistics, verdicts, coverage, findings).", valueName: "FILE"))
    var saveBaselinePath: String?

    func validate() throws {
        if let baselinePath, let saveBaselinePath, baselinePath == saveBaselinePath {
            throw ValidationError("--baseline and --save-baseline name the same file; save to another file and replace it after review")
        }
    }
}
