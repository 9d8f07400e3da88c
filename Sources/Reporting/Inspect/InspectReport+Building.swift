import Checkpoints
import Comparison
import Safetensors

extension InspectReport {
    /// Describes a checkpoint from its headers, with the counts of a scan when one was run.
    ///
    /// - Parameters:
    ///   - checkpoint: The opened checkpoint.
    ///   - identity: Its layout, architecture and tensor components (``Checkpoints/Checkpoint/identify()``).
    ///   - scan: Per-tensor counts from ``Comparison/TensorScanner``, by tensor index, or nil.
    public init(_ checkpoint: Checkpoint, identity: CheckpointIdentity, scan: [TensorScanner.Counts]?) {
        path = checkpoint.path
        storage = checkpoint.storage.rawValue
        variant = checkpoint.variant
        pipelineClass = checkpoint.pipelineClass
        files = checkpoint.files.count
        layout = identity.layout.rawValue
        architecture = identity.architecture.rawValue
        evidence = identity.evidence
        tensors = checkpoint.tensors.count

        var byComponent: [Component: ComponentSummary] = [:]
        // Floating-point dtypes per component, with the tensors of each, for mixes.
        var floatNames: [Component: [DType: [String]]] = [:]
        var floatCounts: [Component: [DType: Int]] = [:]
        var totalParameters = 0
        var totalBytes = 0
        for (index, tensor) in checkpoint.tensors.enumerated() {
            let component = identity.components[index]
            let info = tensor.info
            totalParameters += info.elementCount
            totalBytes += info.byteCount
            var summary = byComponent[component]
                ?? ComponentSummary(component: component.rawValue, tensors: 0, parameters: 0, bytes: 0, dtypes: [:])
            summary.tensors += 1
            summary.parameters += info.elementCount
            summary.bytes += info.byteCount
            summary.dtypes[info.dtype.name, default: DTypeCount(tensors: 0, parameters: 0)].tensors += 1
            summary.dtypes[info.dtype.name, default: DTypeCount(tensors: 0, parameters: 0)].parameters += info.elementCount
            byComponent[component] = summary
            // Empty marker tensors and the catch-all component are not loaded as one module.
            if info.dtype.kind == .floatingPoint && info.elementCount > 0 && component != .other {
                floatCounts[component, default: [:]][info.dtype, default: 0] += 1
                if floatNames[component, default: [:]][info.dtype, default: []].count < 3 {
                    floatNames[component, default: [:]][info.dtype, default: []].append(tensor.name)
                }
            }
        }
        parameters = totalParameters
        bytes = totalBytes
        components = byComponent.keys.sorted().compactMap { byComponent[$0] }
        ema = EMASummary(status: identity.ema.status.rawValue, tensors: identity.ema.tensors, unetTensors: identity.ema.unetTensors)

        dtypeMixes = floatCounts.keys.sorted().compactMap { component in
            guard let counts = floatCounts[component], counts.count > 1 else { return nil }
            let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.name < $1.key.name }
            return DTypeMix(component: component.rawValue, dtypes: ordered.map { dtype, count in
                DTypeExamples(dtype: dtype.name, tensors: count, examples: floatNames[component]?[dtype] ?? [])
            })
        }

        metadata = MetadataSummary(checkpoint.metadata)
        self.scan = scan.map { ScanSummary(checkpoint, components: identity.components, counts: $0) }
        var parametersByName: [String: Int] = [:]
        for tensor in checkpoint.tensors { parametersByName[tensor.name] = tensor.info.elementCount }
        findings = InspectReport.healthFindings(mixes: dtypeMixes, scan: self.scan, tensorParameters: parametersByName)
    }
}

extension InspectReport.MetadataSummary {
    /// Groups merged metadata entries by prefix.
    init(_ entries: [(key: String, value: String)]) {
        self.entries = entries.count
        format = nil
        modelspec = [:]
        kohya = [:]
        onetrainer = [:]
        other = [:]
        for (key, value) in entries {
            if key.hasPrefix("modelspec.") {
                modelspec[key] = value
            } else if key.hasPrefix("ss_") {
                kohya[key] = value
            } else if key.hasPrefix("ot_") {
                onetrainer[key] = value
            } else {
                if key == "format" { format = value }
                other[key] = value
            }
        }
    }
}

extension InspectReport.ScanSummary {
    /// Totals and the tensors with non-zero counts.
    init(_ checkpoint: Checkpoint, components: [Component], counts: [TensorScanner.Counts]) {
        var totals = InspectReport.ScanCounts()
        var perComponent: [String: InspectReport.ScanCounts] = [:]
        var listed: [InspectReport.ScanEntry] = []
        var scanned = 0
        for (index, tensor) in checkpoint.tensors.enumerated() where index < counts.count {
            let component = components[index].rawValue
            guard TensorScanner.scans(tensor.info.dtype) else { continue }
            scanned += 1
            let entry = InspectReport.ScanCounts(counts[index])
            totals.add(entry)
            perComponent[component, default: InspectReport.ScanCounts()].add(entry)
            if counts[index].any {
                listed.append(InspectReport.ScanEntry(name: tensor.name, component: component, dtype: tensor.info.dtype.name, counts: entry))
            }
        }
        tensorsScanned = scanned
        self.totals = totals
        byComponent = perComponent
        tensors = listed
    }
}

extension InspectReport.ScanCounts {
    init(_ counts: TensorScanner.Counts) {
        nan = counts.nan
        posInf = counts.positiveInfinity
        negInf = counts.negativeInfinity
        beyondF16 = counts.beyondF16
    }

    mutating func add(_ other: InspectReport.ScanCounts) {
        nan += other.nan
        posInf += other.posInf
        negInf += other.negInf
        beyondF16 += other.beyondF16
    }

    /// Whether any count is non-zero.
    var any: Bool { nan + posInf + negInf + beyondF16 > 0 }
}
