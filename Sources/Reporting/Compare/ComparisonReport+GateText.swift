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
            let regressed = baseline.regressionsBySubject, improved = baseline.improvementsBySubject
            let text = "baseline \(baseline.path): \(counted(regressed.count, "regression")), \(counted(improved.count, "improvement"))"
            lines.append("  " + (regressed.isEmpty ? style.green(text) : style.red(text)))
            for (name, changes) in regressed.prefix(20) {
                lines.append("    regression: \(name)")
                for change in changes { lines.append("      \(change.detail(under: name))") }
            }
            if regressed.count > 20 { lines.append("    … \(regressed.count - 20) more (see the JSON or Markdown report)") }
            for (name, changes) in improved.prefix(5) {
                lines.append("    improvement: \(changes.count == 1 ? changes[0].detail(under: name) : "\(name) (\(changes.map(\.kind).joined(separator: ", ")))")")
            }
        }
        return lines
    }
}
