import Checkpoints
import Foundation
import Safetensors

extension InspectReport {
    /// The kohya `ss_*` entries shown first, when present: what a LoRA was trained on and how.
    static let importantKohyaKeys = [
        "ss_base_model_version", "ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_v2",
        "ss_sd_model_name", "ss_output_name", "ss_training_comment",
    ]
    /// Entries shown per metadata group before "… N more".
    static let shownPerGroup = 8
    /// Characters of a metadata value shown before it is cut.
    static let valueWidth = 72
    /// Tensors listed under the scan totals before "… N more".
    static let shownScanTensors = 20

    /// The report for a person at a terminal: compact and aligned, long values shortened.
    ///
    /// Every line passes through ``Printable/text(_:limit:)``: an ESC, BEL or CR in a tensor name,
    /// a metadata key or value, or the path is shown as `?`.
    public func terminalText() -> String {
        var lines: [String] = [path]
        var storageText = storage.replacingOccurrences(of: "_", with: " ") + ", \(files) file" + (files == 1 ? "" : "s")
        if let variant { storageText += ", variant \(variant)" }
        if let pipelineClass { storageText += ", pipeline \(pipelineClass)" }
        lines.append("  storage       \(storageText)")
        lines.append("  layout        \(layout)")
        lines.append("  architecture  \(architecture)")
        for finding in evidence { lines.append("                  \(finding)") }
        lines.append("  size          \(tensors) tensors, \(Self.count(parameters)) parameters, \(Self.size(bytes))")
        var emaText = ema.status
        if ema.status != "absent" { emaText += " (\(ema.tensors) EMA tensors for \(ema.unetTensors) UNet tensors)" }
        lines.append("  EMA           \(emaText)")
        if let gate {
            let checked = "fail on \(gate.failOn.joined(separator: ", "))"
            if gate.failed {
                lines.append("  gate          FAILED (exit 1): \(gate.triggered.map(\.category).joined(separator: ", ")) (\(checked))")
            } else {
                lines.append("  gate          passed (exit 0): \(checked)")
            }
        }
        if !findings.isEmpty {
            lines.append("")
            lines.append("health:")
            for finding in findings {
                lines.append("  \(finding.severity.rawValue.padding(7)) \(finding.message)")
            }
        }

        lines.append("")
        var rows = [["component", "tensors", "parameters", "bytes", "dtypes"]]
        for c in components {
            let dtypes = c.dtypes.sorted { $0.value.tensors != $1.value.tensors ? $0.value.tensors > $1.value.tensors : $0.key < $1.key }
                .map { "\($0.key) \($0.value.tensors)" }.joined(separator: ", ")
            rows.append([Component(rawValue: c.component)?.displayName ?? c.component, String(c.tensors),
                         Self.count(c.parameters), Self.size(c.bytes), dtypes])
        }
        lines += Self.table(rows, rightAligned: [1, 2, 3])

        if !dtypeMixes.isEmpty {
            lines.append("")
            lines.append("mixed dtypes inside a component (loading one in a single dtype fails with \"expected scalar type Float but found Half\"):")
            for mix in dtypeMixes {
                let name = Component(rawValue: mix.component)?.displayName ?? mix.component
                lines.append("  \(name): " + mix.dtypes.map { "\($0.dtype) \($0.tensors)" }.joined(separator: ", "))
                for entry in mix.dtypes.dropFirst() {
                    lines.append("    \(entry.dtype): " + entry.examples.joined(separator: ", ")
                                 + (entry.tensors > entry.examples.count ? ", …" : ""))
                }
            }
        }

        lines.append("")
        lines += metadataLines()

        if let scan {
            lines.append("")
            lines += scanLines(scan)
        }
        // Tensor names, metadata and the path come from the file: no control character reaches the terminal.
        return lines.map { Printable.text($0, limit: .max) }.joined(separator: "\n") + "\n"
    }

    private func metadataLines() -> [String] {
        guard metadata.entries > 0 else { return ["metadata: none"] }
        var lines = ["metadata: \(metadata.entries) entr\(metadata.entries == 1 ? "y" : "ies")" + (metadata.format.map { ", format \($0)" } ?? "")]
        func group(_ label: String, _ values: [String: String], first: [String] = []) {
            guard !values.isEmpty else { return }
            lines.append("  \(label) (\(values.count)):")
            let ordered = first.filter { values[$0] != nil } + values.keys.sorted().filter { !first.contains($0) }
            let shown = ordered.prefix(Self.shownPerGroup)
            let width = shown.map(\.count).max() ?? 0
            for key in shown {
                lines.append("    \(Self.pad(key, width)) = \(Self.shorten(values[key] ?? ""))")
            }
            if ordered.count > shown.count { lines.append("    … \(ordered.count - shown.count) more (--json shows every entry in full)") }
        }
        group("modelspec.*", metadata.modelspec)
        group("ss_* (kohya)", metadata.kohya, first: Self.importantKohyaKeys)
        group("ot_* (OneTrainer)", metadata.onetrainer)
        group("other", metadata.other.filter { $0.key != "format" })
        return lines
    }

    private func scanLines(_ scan: ScanSummary) -> [String] {
        func text(_ c: ScanCounts) -> String {
            "NaN \(c.nan), +Inf \(c.posInf), -Inf \(c.negInf), |x| > 65504 \(c.beyondF16)"
        }
        var lines = ["scan of \(scan.tensorsScanned) floating-point tensors: \(text(scan.totals))"]
        guard scan.totals.any else { return lines }
        for component in Component.allCases {
            guard let counts = scan.byComponent[component.rawValue], counts.any else { continue }
            lines.append("  \(component.displayName): \(text(counts))")
        }
        lines.append("")
        var rows = [["tensor", "dtype", "NaN", "+Inf", "-Inf", ">65504"]]
        for entry in scan.tensors.prefix(Self.shownScanTensors) {
            let c = entry.counts
            rows.append([entry.name, entry.dtype, String(c.nan), String(c.posInf), String(c.negInf), String(c.beyondF16)])
        }
        lines += Self.table(rows, rightAligned: [2, 3, 4, 5])
        if scan.tensors.count > Self.shownScanTensors {
            lines.append("  … \(scan.tensors.count - Self.shownScanTensors) more tensors (--json lists them all)")
        }
        return lines
    }

    /// Rows as aligned columns, indented by two spaces; the last column is not padded.
    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        guard let header = rows.first else { return [] }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            let cells = row.enumerated().map { i, cell -> String in
                if i == row.count - 1 && !rightAligned.contains(i) { return cell }
                return rightAligned.contains(i) ? String(repeating: " ", count: widths[i] - cell.count) + cell : pad(cell, widths[i])
            }
            return "  " + cells.joined(separator: "  ")
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// A metadata value on one line, cut to ``valueWidth`` characters.
    static func shorten(_ value: String) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard flat.count > valueWidth else { return flat }
        return String(flat.prefix(valueWidth - 1)) + "… (\(value.count) characters)"
    }

    /// An element count with a unit: 2.57B, 83.7M, 12.3K.
    static func count(_ n: Int) -> String {
        if n >= 1_000_000_000 { return String(format: "%.2fB", Double(n) / 1e9) }
        if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 1_000 { return String(format: "%.1fK", Double(n) / 1e3) }
        return String(n)
    }

    /// A byte count in binary units.
    static func size(_ n: Int) -> String {
        if n >= 1 << 30 { return String(format: "%.2f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
        return "\(n) B"
    }
}
