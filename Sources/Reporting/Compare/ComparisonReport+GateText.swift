extension ComparisonReport {
    /// The gate's lines in the terminal report: the checks that fired and the baseline outcome.
    func gateLines(style: TerminalStyle) -> [String] {
        var lines: [String] = []
        if policy.sources != ["defaults"] {
            lines.append("  policy: \(policyText); fail on \(policy.failOn.joined(separator: ", ")) (from \(policy.sources.joined(separator: ", ")))")
        }
        if !gate.triggered.isEmpty {
            let parts = gate.triggered.map { "\($0.category) \(componentName($0.component)) \($0.offenders.count)" }
            lines.append("  fail-on checks that found something: \(parts.joined(separator: "; "))")
        }
        if let baseline {
            let text = "baseline \(baseline.path): \(baseline.regressions.count) regressions, \(baseline.improvements.count) improvements"
            lines.append("  " + (baseline.regressions.isEmpty ? style.green(text) : style.red(text)))
            for change in baseline.regressions.prefix(20) { lines.append("    regression: \(change.message)") }
            if baseline.regressions.count > 20 { lines.append("    … \(baseline.regressions.count - 20) more (see the JSON or Markdown report)") }
            for change in baseline.improvements.prefix(5) { lines.append("    improvement: \(change.message)") }
        }
        return lines
    }
}
