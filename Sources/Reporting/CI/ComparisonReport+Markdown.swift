import Checkpoints
import Comparison
import Foundation

extension ComparisonReport {
    /// The report as GitHub-flavoured Markdown, for a CI job summary (`--markdown`, `--github`).
    ///
    /// Headline verdict first, then the gate, the baseline outcome, coverage, the worst pairs and
    /// the findings; long lists go into `<details>` blocks. Deterministic: the same report gives
    /// the same text.
    ///
    /// - Parameters:
    ///   - top: Rows of the worst-pairs table.
    ///   - title: The heading's subject (a batch pair's name; `ckdiff` alone by default).
    ///   - workingDirectory: Input paths under it are written relative to it.
    public func markdown(top: Int = 10, title: String? = nil,
                         workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        var out: [String] = []
        let s = summary
        let icon = gate.failed ? "❌" : "✅"
        let heading = title.map { "ckdiff · \($0)" } ?? "ckdiff"
        out.append("## \(icon) \(heading): \(headlineMarkdown)")
        out.append("")
        out.append("| | path | layout | architecture | tensors |")
        out.append("|---|---|---|---|---|")
        for (label, input) in [("A", inputs.a), ("B", inputs.b)] {
            out.append("| \(label) | \(code(GitHubCommand.relative(input.path, to: workingDirectory)))\(input.variant.map { " (variant \($0))" } ?? "") | \(input.layout) | \(input.architecture) | \(input.tensors) |")
        }
        out.append("")
        out.append("**\(s.tensorsAligned) pairs aligned**: identical \(s.tensorsIdentical) · within tolerance \(s.tensorsWithinTolerance) · out of tolerance \(s.tensorsOutOfTolerance) · non-finite \(s.tensorsNonfinite) · shape mismatch \(s.tensorsShapeMismatch)\(s.tensorsNotCompared > 0 ? " · not compared \(s.tensorsNotCompared)" : "") · dtype differs \(s.tensorsDTypeMismatch) · only in A \(s.onlyInA) (\(s.onlyInAWeights) weights) · only in B \(s.onlyInB) (\(s.onlyInBWeights) weights)")
        out.append("")
        out.append("**Policy**: \(policyText) · fail on: \(policy.failOn.map(code).joined(separator: ", ")) · from: \(policy.sources.joined(separator: ", "))")

        out.append("")
        out.append("### Gate")
        out.append("")
        if gate.triggered.isEmpty {
            out.append("No fail-on check found anything.")
        } else {
            out.append("| check | component | count | first offenders |")
            out.append("|---|---|---:|---|")
            for check in gate.triggered {
                let names = check.offenders.prefix(3).map(code).joined(separator: ", ") + (check.offenders.count > 3 ? ", …" : "")
                out.append("| \(code(check.category)) | \(componentName(check.component)) | \(check.offenders.count) | \(names) |")
            }
            if gate.mode == .baseline {
                out.append("")
                out.append("These differences are judged against the baseline below; only regressions fail.")
            }
        }

        if let baseline {
            out.append("")
            out.append("### Baseline")
            out.append("")
            out.append("\(counted(baseline.regressionsBySubject.count, "regression")), \(counted(baseline.improvementsBySubject.count, "improvement")) against \(code(baseline.path)) (slack: \(formatSignificant(baseline.slack.relative * 100, digits: 3)) % relative, floors max_abs \(formatSignificant(baseline.slack.maxAbsFloor, digits: 3)), rel_l2 \(formatSignificant(baseline.slack.relL2Floor, digits: 3))).")
            for (label, list, open) in [("Regressions", baseline.regressions, true), ("Improvements", baseline.improvements, false),
                                        ("Notes", baseline.notes, false)] where !list.isEmpty {
                out.append("")
                out.append("<details\(open ? " open" : "")><summary>\(label) (\(list.count))</summary>")
                out.append("")
                out.append("| change | component | tensor | detail |")
                out.append("|---|---|---|---|")
                for change in list.prefix(50) {
                    let detail = change.message.hasPrefix(change.name + ": ") ? String(change.message.dropFirst(change.name.count + 2)) : change.message
                    out.append("| \(change.kind) | \(componentName(change.component)) | \(code(change.name)) | \(cell(detail)) |")
                }
                if list.count > 50 { out.append("| … | | \(list.count - 50) more | |") }
                out.append("")
                out.append("</details>")
            }
        }

        if !components.isEmpty {
            out.append("")
            out.append("### Coverage")
            out.append("")
            out.append("| component | pairs | A tensors | B tensors | only A | only B | A aligned | B aligned |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for c in components {
                out.append("| \(componentName(c.component.rawValue)) | \(c.pairs) | \(c.aTensors) | \(c.bTensors) | \(c.onlyInA) | \(c.onlyInB) | \(String(format: "%.1f %%", c.alignedShareA * 100)) | \(String(format: "%.1f %%", c.alignedShareB * 100)) |")
            }
        }

        out.append("")
        out.append("### Top offenders")
        out.append("")
        let ranked = rankedTensors().filter { !$0.identical }
        if ranked.isEmpty {
            out.append("All \(s.tensorsAligned) aligned pairs are identical.")
        } else {
            out.append("| verdict | max \\|b−a\\| | rel L2 | cosine | mismatched | dtypes | tolerance | tensor |")
            out.append("|---|---:|---:|---:|---:|---|---|---|")
            for t in ranked.prefix(top) {
                let dtypes = t.aDType == t.bDType ? t.aDType.name : "\(t.aDType.name)→\(t.bDType.name)"
                let tolerance = t.atol.map { atol in "\(formatSignificant(atol, digits: 3)) / \(formatSignificant(t.rtol ?? 0, digits: 3))" } ?? "-"
                out.append("| \(t.verdict.rawValue) | \(stat(t.maxAbs)) | \(stat(t.relL2)) | \(stat(t.cosine)) | \(t.mismatched.map { "\($0) / \(t.numel)" } ?? "-") | \(dtypes) | \(tolerance) | \(code(t.name)) |")
            }
            if ranked.count > top { out.append("") ; out.append("\(ranked.count - top) more pairs are not identical (see the JSON report).") }
        }

        out.append("")
        out.append("### Findings")
        out.append("")
        if findings.isEmpty {
            out.append("None.")
        } else {
            out.append("| severity | kind | tensors | parameters | message |")
            out.append("|---|---|---:|---:|---|")
            for f in findings {
                out.append("| \(f.severity.rawValue) | \(code(f.kind)) | \(f.tensors.count) | \(f.parameters) | \(cell(f.message)) |")
            }
        }

        for (label, list) in [("Only in A", onlyInA), ("Only in B", onlyInB)] where !list.isEmpty {
            out.append("")
            out.append("<details><summary>\(label) (\(list.count))</summary>")
            out.append("")
            out.append("| class | component | key | dtype | shape |")
            out.append("|---|---|---|---|---|")
            for entry in list.prefix(100) {
                out.append("| \(entry.class.rawValue) | \(componentName(entry.component.rawValue)) | \(code(entry.name)) | \(entry.dtype.name) | \(entry.shape.map(String.init).joined(separator: "×")) |")
            }
            if list.count > 100 { out.append("| … | | \(list.count - 100) more | | |") }
            out.append("")
            out.append("</details>")
        }
        out.append("")
        out.append("<sub>\(tool.name) \(tool.version)</sub>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The tolerance rule in words.
    var policyText: String {
        var parts: [String] = []
        if let fixed = policy.tolerance {
            parts.append("atol \(formatSignificant(fixed.atol, digits: 3)), rtol \(formatSignificant(fixed.rtol, digits: 3)) for every float pair")
        } else {
            parts.append(policy.dtypes == Policy.default.dtypes ? "tolerances per dtype (torch.testing defaults)" : "tolerances per dtype (custom table)")
        }
        if !policy.components.isEmpty {
            parts.append("component overrides: " + policy.components.keys.sorted(by: componentOrder).joined(separator: ", "))
        }
        if !policy.keys.isEmpty { parts.append("\(policy.keys.count) key glob overrides") }
        return parts.joined(separator: "; ")
    }
}

/// A table cell: pipes escaped, line breaks flattened.
func cell(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|").split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// Inline code for a name or path, safe inside a table cell.
func code(_ text: String) -> String {
    let fence = text.contains("`") ? "``" : "`"
    return fence + cell(text) + fence
}

/// A component's display name, or the raw name when unknown.
func componentName(_ raw: String) -> String {
    Component(rawValue: raw)?.displayName ?? raw
}

/// A statistic for tables: 3 significant digits, `nan`/`inf` spelled out, `-` when absent.
func stat(_ n: ReportNumber?) -> String {
    guard let v = n?.value else { return "-" }
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == 0 { return "0" }
    return formatSignificant(v, digits: 3)
}
