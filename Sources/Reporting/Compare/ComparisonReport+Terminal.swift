import Foundation
import Checkpoints
import Comparison

extension ComparisonReport {
    /// Options for the terminal rendering.
    public struct TerminalOptions: Sendable {
        /// Rows of the worst-first table (ignored with `all`).
        public var top: Int = 20
        /// List every aligned pair, identical ones included.
        public var all: Bool = false
        /// Use ANSI colours.
        public var colour: Bool = false

        public init(top: Int = 20, all: Bool = false, colour: Bool = false) {
            self.top = top
            self.all = all
            self.colour = colour
        }
    }

    /// The report for a person at a terminal: the summary first, then the worst pairs.
    public func terminalText(_ options: TerminalOptions = TerminalOptions()) -> String {
        let style = TerminalStyle(enabled: options.colour)
        var lines: [String] = []
        let s = summary
        func side(_ label: String, _ input: Input) -> String {
            "\(label): \(input.path)  [\(input.layout), \(input.architecture), \(input.tensors) tensors\(input.variant.map { ", variant \($0)" } ?? "")]"
        }
        lines.append(side("A", inputs.a))
        lines.append(side("B", inputs.b))
        lines.append("verdict: \(headlineText(style: style))")
        lines.append("  tolerance: \(toleranceText)")
        if !s.verdicts.isEmpty {
            let counts = Verdict.allCases.compactMap { v in s.verdicts[v.rawValue].map { "\(v.rawValue.replacingOccurrences(of: "_", with: " ")) \($0)" } }
            lines.append("  aligned \(s.tensorsAligned): \(counts.joined(separator: ", "))")
        } else {
            lines.append("  aligned \(s.tensorsAligned): identical \(s.tensorsIdentical), within tolerance \(s.tensorsWithinTolerance), out of tolerance \(s.tensorsOutOfTolerance), non-finite \(s.tensorsNonfinite), shape mismatch \(s.tensorsShapeMismatch)\(s.tensorsNotCompared > 0 ? ", not compared \(s.tensorsNotCompared)" : "")")
        }
        lines.append("  dtype differs on \(s.tensorsDTypeMismatch) pairs; only in A: \(s.onlyInA) (\(s.onlyInAWeights) weights); only in B: \(s.onlyInB) (\(s.onlyInBWeights) weights)\(s.renamed > 0 ? "; renamed: \(s.renamed)" : "")")
        lines += gateLines(style: style)
        lines += whyLines(options, style: style)

        if !components.isEmpty {
            var rows = [["component", "pairs", "A tensors", "B tensors", "only A", "only B", "A aligned", "B aligned"]]
            for c in components {
                rows.append([c.component.displayName, String(c.pairs),
                             String(c.aTensors), String(c.bTensors), String(c.onlyInA), String(c.onlyInB),
                             String(format: "%.1f%%", c.alignedShareA * 100), String(format: "%.1f%%", c.alignedShareB * 100)])
            }
            lines.append("")
            lines.append("coverage (share of parameters in an aligned pair):")
            lines += coverageTable(rows)
        }

        lines += emaLines()

        let ranked = rankedTensors()
        let shown = options.all ? ranked : Array(ranked.filter { !$0.identical }.prefix(options.top))
        let notIdentical = ranked.filter { !$0.identical }.count
        if !shown.isEmpty {
            lines.append("")
            if options.all {
                lines.append("all \(ranked.count) aligned pairs, worst first:")
            } else {
                lines.append("worst pairs (\(shown.count) of \(notIdentical) not identical\(notIdentical > shown.count ? "; --top N or --all for more" : "")):")
            }
            var rows: [[String]] = [["verdict", "max_abs", "rel_l2", "cosine", "mismatched", "dtypes", "name"]]
            for t in shown {
                rows.append([t.verdict.rawValue, format(t.maxAbs), format(t.relL2), format(t.cosine),
                             t.mismatched.map { "\($0)/\(t.numel)" } ?? "-",
                             t.aDType == t.bDType ? t.aDType.name : "\(t.aDType.name)→\(t.bDType.name)",
                             t.name == t.bName ? t.name : "\(t.name) ⇄ \(t.bName)"])
            }
            lines += table(rows, style: style)
        }
        if !renamed.isEmpty {
            lines.append("")
            lines.append("renamed (\(renamed.count)): B's tensor holds A's under another name")
            let limit = options.all ? renamed.count : min(renamed.count, options.top)
            for entry in renamed.prefix(limit) {
                lines.append("  \(entry.verdict.rawValue.padding(16)) \(entry.component.rawValue.padding(10)) \(entry.bName) ⇐ \(entry.aName)")
            }
            if renamed.count > limit { lines.append("  … \(renamed.count - limit) more (--all)") }
        }
        for (label, list) in [("only in A", onlyInA), ("only in B", onlyInB)] where !list.isEmpty {
            lines.append("")
            lines.append("\(label) (\(list.count)):")
            let limit = options.all ? list.count : min(list.count, options.top)
            for entry in list.prefix(limit) {
                lines.append("  \(entry.class.rawValue.padding(16)) \(entry.component.rawValue.padding(10)) \(entry.name) \(entry.dtype.name) \(entry.shape)")
            }
            if list.count > limit { lines.append("  … \(list.count - limit) more (--all)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The "why" section: findings that matter first (errors, warnings), then conventions, at most `top`.
    private func whyLines(_ options: TerminalOptions, style: TerminalStyle) -> [String] {
        guard !findings.isEmpty else { return [] }
        let ordered = findings.enumerated().sorted { l, r in
            l.element.severity != r.element.severity ? l.element.severity > r.element.severity : l.offset < r.offset
        }.map(\.element)
        let limit = options.all ? ordered.count : min(ordered.count, max(options.top, 1), 8)
        var lines = ["", "why:"]
        for finding in ordered.prefix(limit) {
            let label: String
            switch finding.severity {
            case .error: label = style.red("error  ")
            case .warning: label = style.yellow("warning")
            case .info: label = "info   "
            }
            lines.append("  \(label) \(finding.message)")
            if finding.tensors.count <= 3 && !finding.message.contains(finding.tensors.first ?? "\u{0}") {
                lines.append("          \(finding.tensors.joined(separator: ", "))")
            }
        }
        if ordered.count > limit { lines.append("  … \(ordered.count - limit) more findings (--all, or --json)") }
        return lines
    }

    private func coverageTable(_ rows: [[String]]) -> [String] {
        guard let header = rows.first else { return [] }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            "  " + row.enumerated().map { i, cell in i == 0 ? cell.padding(widths[i]) : cell.leftPadding(widths[i]) }.joined(separator: "  ")
        }
    }

    private var toleranceText: String {
        if tolerance.mode == .fixed, let atol = tolerance.atol, let rtol = tolerance.rtol {
            return "atol \(atol), rtol \(rtol) for every float pair"
        }
        return "per dtype (torch.testing defaults, looser dtype of each pair)"
    }

    /// Differences first (by verdict severity, then relative L2 error, then max |b − a|), then the rest in report order.
    func rankedTensors() -> [TensorEntry] {
        func severity(_ verdict: Verdict) -> Int {
            switch verdict {
            case .nonfinite, .castDamage: return 0
            case .shapeMismatch, .unrelated, .swapped, .permuted, .transposed: return 1
            case .outOfTolerance, .drifted, .scaled, .emaMatch: return 2
            case .notCompared, .reshaped: return 3
            case .withinTolerance, .exactCast, .dtypeClassChange: return 4
            case .identical: return 5
            }
        }
        func key(_ n: ReportNumber?) -> Double {
            guard let v = n?.value else { return -1 }
            return v.isNaN ? .infinity : v
        }
        // The keys are taken once per entry and the indices sorted, not the entries themselves.
        let keys = tensors.map { (severity: severity($0.verdict), relL2: key($0.relL2), maxAbs: key($0.maxAbs)) }
        return keys.indices.sorted { l, r in
            if keys[l].severity != keys[r].severity { return keys[l].severity < keys[r].severity }
            if keys[l].relL2 != keys[r].relL2 { return keys[l].relL2 > keys[r].relL2 }
            if keys[l].maxAbs != keys[r].maxAbs { return keys[l].maxAbs > keys[r].maxAbs }
            return l < r
        }.map { tensors[$0] }
    }

    private func format(_ n: ReportNumber?) -> String {
        guard let v = n?.value else { return "-" }
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == 0 { return "0" }
        return formatSignificant(v, digits: 3)
    }

    private func table(_ rows: [[String]], style: TerminalStyle) -> [String] {
        guard let header = rows.first else { return [] }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.enumerated().map { index, row in
            var cells: [String] = []
            for (i, cell) in row.enumerated() {
                let last = i == row.count - 1
                var text = last ? cell : (i >= 1 && i <= 4 ? cell.leftPadding(widths[i]) : cell.padding(widths[i]))
                if index > 0 && i == 0 { text = style.verdict(cell, padded: text) }
                cells.append(text)
            }
            return "  " + cells.joined(separator: "  ")
        }
    }
}

/// ANSI styling that does nothing when disabled.
struct TerminalStyle {
    var enabled: Bool

    func green(_ text: String) -> String { enabled ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    func red(_ text: String) -> String { enabled ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    func yellow(_ text: String) -> String { enabled ? "\u{1B}[33m\(text)\u{1B}[0m" : text }

    func verdict(_ verdict: String, padded: String) -> String {
        switch verdict {
        case Verdict.identical.rawValue, Verdict.withinTolerance.rawValue, Verdict.exactCast.rawValue,
             Verdict.dtypeClassChange.rawValue: return green(padded)
        case Verdict.notCompared.rawValue, Verdict.reshaped.rawValue: return yellow(padded)
        default: return red(padded)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadding(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// `value` with `digits` significant digits, as printf's `%g` writes it.
func formatSignificant(_ value: Double, digits: Int) -> String {
    String(format: "%.\(digits)g", value)
}
