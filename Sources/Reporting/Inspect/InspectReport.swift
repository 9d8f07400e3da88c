import Checkpoints
import Comparison
import Foundation
import Safetensors

/// What `ckdiff inspect` says about one checkpoint (JSON format version 1).
public struct InspectReport: Sendable, Codable {
    public var ckdiffInspectVersion = 1
    public var path: String
    public var storage: String
    public var variant: String?
    public var files: Int
    public var layout: String
    public var architecture: String
    /// The keys and shapes the architecture was decided on.
    public var evidence: String
    public var tensors: Int
    public var parameters: Int
    public var bytes: Int
    public var components: [ComponentSummary]
    /// "present", "absent" or "partial" (fewer EMA tensors than UNet tensors).
    public var ema: String
    /// Components holding more than one floating-point dtype.
    public var dtypeMixes: [DTypeMix]
    public var metadata: MetadataSummary
    /// Per-tensor non-finite and F16-range counts (with `--scan`; only tensors with a non-zero count).
    public var scan: ScanSummary?

    enum CodingKeys: String, CodingKey {
        case ckdiffInspectVersion = "ckdiff_inspect_version"
        case path, storage, variant, files, layout, architecture, evidence, tensors, parameters, bytes, components, ema
        case dtypeMixes = "dtype_mixes"
        case metadata, scan
    }

    public struct ComponentSummary: Sendable, Codable {
        public var component: String
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
        /// dtype → number of tensors and elements.
        public var dtypes: [String: DTypeCount]
    }

    public struct DTypeCount: Sendable, Codable {
        public var tensors: Int
        public var parameters: Int
    }

    /// A component whose floating-point tensors do not share one dtype: loading it into one
    /// module is what raises "expected scalar type Float but found Half".
    public struct DTypeMix: Sendable, Codable {
        public var component: String
        public var dtypes: [String: Int]
        /// A few tensors of each minority dtype.
        public var examples: [String]
    }

    public struct MetadataSummary: Sendable, Codable {
        public var entries: Int
        public var format: String?
        public var modelspec: [String: String]
        public var kohya: [String: String]
        public var onetrainer: [String: String]
        public var otherKeys: [String]

        enum CodingKeys: String, CodingKey {
            case entries, format, modelspec, kohya, onetrainer
            case otherKeys = "other_keys"
        }
    }

    public struct ScanSummary: Sendable, Codable {
        public var tensorsScanned: Int
        public var totals: ScanCounts
        public var byComponent: [String: ScanCounts]
        public var tensors: [ScanEntry]

        enum CodingKeys: String, CodingKey {
            case tensorsScanned = "tensors_scanned"
            case totals
            case byComponent = "by_component"
            case tensors
        }
    }

    public struct ScanCounts: Sendable, Codable {
        public var nan = 0
        public var posInf = 0
        public var negInf = 0
        public var beyondF16 = 0

        enum CodingKeys: String, CodingKey {
            case nan
            case posInf = "pos_inf"
            case negInf = "neg_inf"
            case beyondF16 = "beyond_f16"
        }

        mutating func add(_ c: TensorScanner.Counts) {
            nan += c.nan
            posInf += c.positiveInfinity
            negInf += c.negativeInfinity
            beyondF16 += c.beyondF16
        }
    }

    public struct ScanEntry: Sendable, Codable {
        public var name: String
        public var dtype: String
        public var counts: ScanCounts
    }
}

extension InspectReport {
    /// Describes a checkpoint from its headers, with the counts of a scan when one was run.
    public init(_ checkpoint: Checkpoint, identity: CheckpointIdentity, scan: [TensorScanner.Counts]?) {
        path = checkpoint.path
        storage = checkpoint.storage.rawValue
        variant = checkpoint.variant
        files = checkpoint.files.count
        layout = identity.layout.rawValue
        architecture = identity.architecture.rawValue
        evidence = identity.evidence
        tensors = checkpoint.tensors.count
        parameters = checkpoint.tensors.reduce(0) { $0 + $1.info.elementCount }
        bytes = checkpoint.tensors.reduce(0) { $0 + $1.info.byteCount }

        var byComponent: [Component: ComponentSummary] = [:]
        var floatDTypes: [Component: [String: [String]]] = [:]
        for (i, tensor) in checkpoint.tensors.enumerated() {
            let component = identity.components[i]
            var summary = byComponent[component] ?? ComponentSummary(component: component.rawValue, tensors: 0, parameters: 0, bytes: 0, dtypes: [:])
            summary.tensors += 1
            summary.parameters += tensor.info.elementCount
            summary.bytes += tensor.info.byteCount
            var count = summary.dtypes[tensor.info.dtype.name] ?? DTypeCount(tensors: 0, parameters: 0)
            count.tensors += 1
            count.parameters += tensor.info.elementCount
            summary.dtypes[tensor.info.dtype.name] = count
            byComponent[component] = summary
            if tensor.info.dtype.kind == .floatingPoint && tensor.info.elementCount > 0 {
                floatDTypes[component, default: [:]][tensor.info.dtype.name, default: []].append(tensor.name)
            }
        }
        components = byComponent.keys.sorted().compactMap { byComponent[$0] }

        let emaTensors = byComponent[.ema]?.tensors ?? 0
        let unetTensors = byComponent[.unet]?.tensors ?? 0
        ema = emaTensors == 0 ? "absent" : (emaTensors >= unetTensors ? "present" : "partial")

        dtypeMixes = floatDTypes.keys.sorted().compactMap { component in
            guard let dtypes = floatDTypes[component], dtypes.count > 1 else { return nil }
            let majority = dtypes.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }?.key
            let examples = dtypes.filter { $0.key != majority }.sorted { $0.key < $1.key }.flatMap { $0.value.prefix(3) }
            return DTypeMix(component: component.rawValue, dtypes: dtypes.mapValues(\.count), examples: Array(examples))
        }

        let entries = checkpoint.metadata
        func prefixed(_ prefix: String) -> [String: String] {
            Dictionary(entries.filter { $0.key.hasPrefix(prefix) }.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        metadata = MetadataSummary(
            entries: entries.count, format: entries.first { $0.key == "format" }?.value,
            modelspec: prefixed("modelspec."), kohya: prefixed("ss_"), onetrainer: prefixed("ot_"),
            otherKeys: entries.map(\.key).filter { !$0.hasPrefix("modelspec.") && !$0.hasPrefix("ss_") && !$0.hasPrefix("ot_") && $0 != "format" }.sorted())

        if let scan {
            var totals = ScanCounts()
            var perComponent: [String: ScanCounts] = [:]
            var listed: [ScanEntry] = []
            for (i, counts) in scan.enumerated() where counts.any {
                var entry = ScanCounts()
                entry.add(counts)
                totals.add(counts)
                perComponent[identity.components[i].rawValue, default: ScanCounts()].add(counts)
                let tensor = checkpoint.tensors[i]
                listed.append(ScanEntry(name: tensor.name, dtype: tensor.info.dtype.name, counts: entry))
            }
            self.scan = ScanSummary(tensorsScanned: scan.count, totals: totals, byComponent: perComponent, tensors: listed)
        } else {
            self.scan = nil
        }
    }

    /// The report as JSON: sorted keys, indented.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// The report for a terminal.
    public func terminalText() -> String {
        var lines: [String] = []
        lines.append("\(path)")
        lines.append("  layout \(layout), architecture \(architecture)  (\(evidence))")
        lines.append("  \(storage)\(variant.map { ", variant \($0)" } ?? ""), \(files) file\(files == 1 ? "" : "s"), \(tensors) tensors, \(formatCount(parameters)) parameters, \(formatBytes(bytes))")
        lines.append("  EMA: \(ema)")
        lines.append("")
        var rows = [["component", "tensors", "parameters", "bytes", "dtypes"]]
        for c in components {
            let dtypes = c.dtypes.keys.sorted().map { "\($0) \(c.dtypes[$0]?.tensors ?? 0)" }.joined(separator: ", ")
            rows.append([Component(rawValue: c.component)?.displayName ?? c.component, String(c.tensors),
                         formatCount(c.parameters), formatBytes(c.bytes), dtypes])
        }
        var widths = rows[0].map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            lines.append("  " + row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : (i == 0 ? cell.padding(widths[i]) : cell.leftPadding(widths[i]))
            }.joined(separator: "  "))
        }
        for mix in dtypeMixes {
            lines.append("")
            lines.append("  mixed dtypes in \(mix.component): " + mix.dtypes.keys.sorted().map { "\($0) \(mix.dtypes[$0] ?? 0)" }.joined(separator: ", ")
                         + " (loading it as one module fails with \"expected scalar type Float but found Half\"); e.g. "
                         + mix.examples.prefix(3).joined(separator: ", "))
        }
        lines.append("")
        if metadata.entries == 0 {
            lines.append("  metadata: none")
        } else {
            lines.append("  metadata: \(metadata.entries) entries" + (metadata.format.map { ", format \($0)" } ?? ""))
            for (label, group) in [("modelspec", metadata.modelspec), ("kohya ss_", metadata.kohya), ("OneTrainer ot_", metadata.onetrainer)] where !group.isEmpty {
                lines.append("    \(label): \(group.count) keys")
                for key in group.keys.sorted().prefix(8) {
                    var value = group[key] ?? ""
                    if value.count > 80 { value = String(value.prefix(77)) + "…" }
                    lines.append("      \(key) = \(value.replacingOccurrences(of: "\n", with: " "))")
                }
            }
            if !metadata.otherKeys.isEmpty { lines.append("    other: " + metadata.otherKeys.prefix(10).joined(separator: ", ")) }
        }
        if let scan {
            lines.append("")
            let t = scan.totals
            lines.append("  scan of \(scan.tensorsScanned) tensors: NaN \(t.nan), +Inf \(t.posInf), -Inf \(t.negInf), |x| > 65504 \(t.beyondF16)")
            for entry in scan.tensors.prefix(20) {
                let c = entry.counts
                lines.append("    \(entry.name) \(entry.dtype): NaN \(c.nan), +Inf \(c.posInf), -Inf \(c.negInf), beyond F16 \(c.beyondF16)")
            }
            if scan.tensors.count > 20 { lines.append("    … \(scan.tensors.count - 20) more in --json") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

private func formatCount(_ n: Int) -> String {
    if n >= 1_000_000_000 { return String(format: "%.2fB", Double(n) / 1e9) }
    if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
    if n >= 1_000 { return String(format: "%.1fK", Double(n) / 1e3) }
    return String(n)
}

private func formatBytes(_ n: Int) -> String {
    if n >= 1 << 30 { return String(format: "%.2f GiB", Double(n) / Double(1 << 30)) }
    if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
    if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
    return "\(n) B"
}
