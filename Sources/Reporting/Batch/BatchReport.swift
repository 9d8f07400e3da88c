import Foundation

/// The combined result of `ckdiff batch`: one entry per pair, with its full report or its trouble.
public struct BatchReport: Sendable, Codable {
    /// The version of this format.
    public static let formatVersion = 1

    public var ckdiffBatchReportVersion: Int = BatchReport.formatVersion
    public var tool: ComparisonReport.Tool
    /// The manifest, as given.
    public var manifest: String
    public var summary: Summary
    public var pairs: [Entry]

    enum CodingKeys: String, CodingKey {
        case ckdiffBatchReportVersion = "ckdiff_batch_report_version"
        case tool, manifest, summary, pairs
    }

    /// Counts and the one exit status.
    public struct Summary: Sendable, Codable {
        public var pairs: Int
        public var equivalent: Int
        public var different: Int
        public var trouble: Int
        /// 2 if any pair had trouble, else 1 if any pair failed its gate, else 0.
        public var exitCode: Int

        enum CodingKeys: String, CodingKey {
            case pairs, equivalent, different, trouble
            case exitCode = "exit_code"
        }
    }

    /// One pair's outcome.
    public struct Entry: Sendable, Codable {
        public var name: String
        public var a: String
        public var b: String
        /// `equivalent` (exit 0), `different` (exit 1) or `trouble` (exit 2).
        public var status: String
        public var exitCode: Int
        /// The one-line error, for trouble.
        public var error: String?
        /// The pair's report (absent for trouble).
        public var report: ComparisonReport?

        enum CodingKeys: String, CodingKey {
            case name, a, b, status
            case exitCode = "exit_code"
            case error, report
        }

        public init(name: String, a: String, b: String, report: ComparisonReport) {
            self.name = name
            self.a = a
            self.b = b
            self.exitCode = report.summary.exitCode
            self.status = report.summary.exitCode == 0 ? "equivalent" : "different"
            self.report = report
        }

        public init(name: String, a: String, b: String, trouble: String) {
            self.name = name
            self.a = a
            self.b = b
            self.exitCode = 2
            self.status = "trouble"
            self.error = trouble
        }
    }

    public init(manifest: String, pairs: [Entry]) {
        self.tool = ComparisonReport.Tool(name: "ckdiff", version: ComparisonReport.toolVersion)
        self.manifest = manifest
        self.pairs = pairs
        let trouble = pairs.filter { $0.exitCode == 2 }.count
        let different = pairs.filter { $0.exitCode == 1 }.count
        summary = Summary(pairs: pairs.count, equivalent: pairs.count - trouble - different, different: different,
                          trouble: trouble, exitCode: trouble > 0 ? 2 : (different > 0 ? 1 : 0))
    }

    public func jsonData() throws -> Data {
        try ReportJSON.encode(self)
    }

    /// Reads a batch report back.
    public static func decode(_ data: Data) throws -> BatchReport {
        try JSONDecoder().decode(BatchReport.self, from: data)
    }

    /// The recorded exit status, after checking every exit code and count the renderers use.
    ///
    /// `summary.exit_code` and each pair's `exit_code` must be 0, 1 or 2 (``RecordedExitStatus``),
    /// the summary's counts ≥ 0, and each pair's report valid in turn
    /// (``ComparisonReport/validatedExitStatus()``).
    public func validatedExitStatus() throws(PolicyError) -> RecordedExitStatus {
        for (name, value) in [("pairs", summary.pairs), ("equivalent", summary.equivalent),
                              ("different", summary.different), ("trouble", summary.trouble)] where value < 0 {
            throw PolicyError("summary.\(name) is \(value); a count is never negative")
        }
        for (i, entry) in pairs.enumerated() {
            _ = try RecordedExitStatus(checking: entry.exitCode, field: "pairs[\(i)].exit_code")
            if let report = entry.report {
                do {
                    _ = try report.validatedExitStatus()
                } catch {
                    throw PolicyError("pairs[\(i)].report: \(error.description)")
                }
            }
        }
        return try RecordedExitStatus(checking: summary.exitCode, field: "summary.exit_code")
    }

    /// One line per pair and the totals, for a terminal.
    public func terminalText() -> String {
        var lines = ["batch \(manifest): \(summary.pairs) pairs: \(summary.equivalent) equivalent, \(summary.different) different, \(summary.trouble) trouble (exit \(summary.exitCode))"]
        let width = pairs.map(\.name.count).max() ?? 0
        for entry in pairs {
            var detail: String
            if let report = entry.report {
                let s = report.summary
                detail = "aligned \(s.tensorsAligned), out of tolerance \(s.tensorsOutOfTolerance), only in A \(s.onlyInAWeights) weights, only in B \(s.onlyInBWeights) weights"
                if let baseline = report.baseline {
                    detail += "; baseline: \(counted(baseline.regressionsBySubject.count, "regression")), \(counted(baseline.improvementsBySubject.count, "improvement"))"
                } else if !report.gate.triggered.isEmpty {
                    detail += "; failed: " + Array(Set(report.gate.triggered.map(\.category))).sorted().joined(separator: ", ")
                }
            } else {
                detail = entry.error ?? ""
            }
            lines.append("  \(entry.name.padding(width))  \(entry.status.padding(10))  \(detail)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Markdown for a job summary: a table of pairs, then each pair's summary one heading level down.
    ///
    /// Paths under `workingDirectory` are written relative to it (GitHub links them; absolute paths
    /// leak the runner's layout).
    public func markdown(top: Int = 10, workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let icon = summary.exitCode == 0 ? "✅" : (summary.exitCode == 1 ? "❌" : "⚠️")
        var out = ["## \(icon) ckdiff batch: \(summary.equivalent) equivalent, \(summary.different) different, \(summary.trouble) trouble (exit \(summary.exitCode))", ""]
        out.append("| pair | status | exit | A | B |")
        out.append("|---|---|---:|---|---|")
        for entry in pairs {
            out.append("| \(cell(entry.name)) | \(entry.status) | \(entry.exitCode) | \(code(GitHubCommand.relative(entry.a, to: workingDirectory))) | \(code(GitHubCommand.relative(entry.b, to: workingDirectory))) |")
        }
        for entry in pairs {
            out.append("")
            if let report = entry.report {
                let text = report.markdown(top: top, title: entry.name, workingDirectory: workingDirectory)
                out += text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.hasPrefix("#") ? "#" + $0 : String($0) }
            } else {
                out.append("### ⚠️ ckdiff · \(entry.name): trouble (exit 2)")
                out.append("")
                out.append(cell(entry.error ?? ""))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// JUnit: each pair's suites, named `PAIR.COMPONENT`; a pair in trouble is one suite with an errored case.
    public func junit() -> JUnitDocument {
        var suites: [JUnitDocument.Suite] = []
        for entry in pairs {
            if let report = entry.report {
                suites += report.junitSuites(pair: entry.name)
            } else {
                suites.append(ComparisonReport.troubleSuite(pair: entry.name, message: entry.error ?? "trouble"))
            }
        }
        return JUnitDocument(name: "ckdiff batch", suites: suites)
    }

    /// Annotations of every pair; trouble as an error on the manifest.
    public func githubAnnotations() -> [String] {
        pairs.flatMap { entry -> [String] in
            if let report = entry.report { return report.githubAnnotations(limit: 20) }
            return [GitHubCommand.annotation("error", file: entry.b, title: "ckdiff trouble (\(entry.name))", message: entry.error ?? "trouble")]
        }
    }
}
