import Checkpoints
import Comparison
import Safetensors

extension ComparisonReport {
    /// The name and version written into reports.
    public static let toolVersion = "0.1.0"

    /// Builds the report of a finished comparison.
    ///
    /// - Parameters:
    ///   - alignment: The alignment that was compared (it owns both checkpoints).
    ///   - identities: What ``Checkpoints/Checkpoint/identify()`` found in A and in B.
    ///   - comparisons: The alignment's comparisons.
    ///   - tolerance: The fixed tolerance used instead of the per-dtype defaults, if any.
    ///   - emaSelection: Which weights stood for each side's UNet (`--ema`).
    ///   - emaAnalysis: The live-or-EMA analysis, when one side alone holds an EMA copy.
    ///   - diagnosis: The second stage's result, or nil to report the first stage's statistical verdicts.
    ///   - policy: The policy that decides the outcome; nil for the defaults (with `tolerance` as a
    ///     command-line layer when given).
    ///   - baseline: A baseline to hold the report against, with the path it was read from.
    ///
    /// The outcome (gate, verdict, exit status, baseline comparison) is decided once, at the end,
    /// by ``GateOutcome/decide(_:policy:baseline:)``: the policy, then the baseline.
    public init(_ alignment: Alignment, identities: (a: CheckpointIdentity, b: CheckpointIdentity),
                comparisons: PairTable<TensorComparison>, tolerance: Tolerance?,
                emaSelection: EMASelection = .live, emaAnalysis: EMAAnalysis? = nil,
                diagnosis: Diagnoser.Result? = nil, policy: Policy? = nil, baseline: (Baseline, path: String)? = nil) {
        let policy = policy ?? tolerance.map { Policy.default.applying(Self.fixedLayer($0)) } ?? Policy.default
        let a = (checkpoint: alignment.a, identity: identities.a), b = (checkpoint: alignment.b, identity: identities.b)
        let results = PairResult.attach(alignment, comparisons: comparisons, diagnoses: diagnosis?.pairs, ema: emaAnalysis)
        func input(_ side: (checkpoint: Checkpoint, identity: CheckpointIdentity)) -> Input {
            Input(path: side.checkpoint.path, storage: side.checkpoint.storage.rawValue,
                  layout: side.identity.layout.rawValue, architecture: side.identity.architecture.rawValue,
                  variant: side.checkpoint.variant,
                  files: side.checkpoint.files.count, tensors: side.checkpoint.tensors.count)
        }
        let renamedA = Set(diagnosis?.renamed.map(\.a) ?? []), renamedB = Set(diagnosis?.renamed.map(\.b) ?? [])
        func leftovers<Side>(_ list: [Leftover<Side>], _ checkpoint: Checkpoint, skipping: Set<TensorRef<Side>>) -> [LeftoverEntry] {
            list.filter { !skipping.contains($0.ref) }.map { leftover in
                let tensor = checkpoint.tensors[leftover.tensor]
                return LeftoverEntry(name: tensor.name, component: leftover.component,
                                     class: leftover.kind, dtype: tensor.info.dtype,
                                     shape: tensor.info.shape, numel: tensor.info.elementCount)
            }
        }
        let firstStage = results.map(\.comparison)
        let diagnoses = results.map { $0.diagnosis ?? PairDiagnosis(verdict: $0.comparison.verdict, evidence: "") }
        let entries = results.map { result in
            var entry = TensorEntry(result.comparison, diagnosis: result.diagnosis)
            entry.toleranceRule = Self.toleranceRule(of: result.comparison, under: policy)
            return entry
        }
        let onlyA = leftovers(alignment.onlyInA, a.checkpoint, skipping: renamedA)
        let onlyB = leftovers(alignment.onlyInB, b.checkpoint, skipping: renamedB)
        let countsAsDifference: (LeftoverEntry) -> Bool = { $0.class == .weight || $0.class == .unknown }
        let verdicts = firstStage.map(\.verdict)
        func count(_ v: Verdict) -> Int { verdicts.filter { $0 == v }.count }
        let weightsA = onlyA.filter(countsAsDifference).count
        let weightsB = onlyB.filter(countsAsDifference).count
        let ema = EMASection(a: a, b: b, alignment: alignment, comparisons: firstStage,
                             selection: emaSelection, analysis: emaAnalysis)
        let renamedCount = diagnosis?.renamed.count ?? 0
        var verdictCounts: [String: Int] = [:]
        for d in diagnoses { verdictCounts[d.verdict.rawValue, default: 0] += 1 }
        self.tool = Tool(name: "ckdiff", version: ComparisonReport.toolVersion)
        self.inputs = Inputs(a: input(a), b: input(b))
        self.tolerance = ToleranceSetting(policy)
        // The verdict and exit status are the gate's, written by `settle` below.
        self.summary = Summary(
            verdict: .equivalent, exitCode: 0,
            tensorsAligned: firstStage.count, tensorsIdentical: count(.identical),
            tensorsWithinTolerance: count(.withinTolerance), tensorsOutOfTolerance: count(.outOfTolerance),
            tensorsNonfinite: firstStage.filter(\.hasNonFinite).count,
            tensorsShapeMismatch: count(.shapeMismatch), tensorsNotCompared: count(.notCompared),
            tensorsDTypeMismatch: firstStage.filter { $0.aDType != $0.bDType }.count,
            onlyInA: onlyA.count, onlyInB: onlyB.count, onlyInAWeights: weightsA, onlyInBWeights: weightsB,
            parametersCompared: firstStage.reduce(0) { $0 + $1.elementCount },
            bytesCompared: firstStage.reduce(0) { $0 + $1.elementCount * ($1.aDType.bitSize + $1.bDType.bitSize) / 8 },
            renamed: renamedCount, verdicts: verdictCounts)
        self.components = ComparisonReport.coverage(alignment)
        self.tensors = entries
        self.onlyInA = onlyA
        self.onlyInB = onlyB
        self.ema = ema
        self.renamed = (diagnosis?.renamed ?? []).map { r in
            let c = r.comparison
            return RenamedEntry(aName: c.aName, bName: c.bName, component: r.component,
                                aDType: c.aDType, bDType: c.bDType, aShape: c.aShape, bShape: c.bShape,
                                numel: c.elementCount, verdict: r.diagnosis.verdict, evidence: r.diagnosis.evidence)
        }
        self.findings = diagnosis?.findings ?? []
        settle(GateOutcome.decide(self, policy: policy, baseline: baseline))
    }

    /// The policy rule that chose a pair's tolerance, from the pair's own component and dtypes:
    /// nil for a pair with no tolerance (not decoded) or no floating-point side.
    static func toleranceRule(of c: TensorComparison, under policy: Policy) -> String? {
        guard c.tolerance != nil, c.aDType.kind == .floatingPoint || c.bDType.kind == .floatingPoint else { return nil }
        let pair = ToleranceResolver.Pair(name: c.name, aName: c.aName, bName: c.bName, component: c.component,
                                          aDType: c.aDType, bDType: c.bDType)
        return policy.resolve(pair)?.rule.description
    }

    /// A command-line layer holding only a fixed tolerance (the `tolerance:` argument of the initialiser).
    private static func fixedLayer(_ tolerance: Tolerance) -> PolicyLayer {
        var layer = PolicyLayer(source: "command line")
        layer.tolerance = tolerance
        return layer
    }
}

extension ComparisonReport {
    /// Coverage per component, from the alignment: every tensor of each side is in a pair or a leftover.
    /// Tensors `--ema` set aside (class `set_aside`) are left out: they stand for nothing.
    static func coverage(_ alignment: Alignment) -> [ComponentCoverage] {
        let a = alignment.a, b = alignment.b
        struct Side {
            var tensors = Set<Int>()
            var aligned = Set<Int>()
            var only = Set<Int>()
        }
        var sides: [Component: (a: Side, b: Side, pairs: Int)] = [:]
        // Mutated in place through the defaulted subscript: copying an entry out and back in would
        // copy its sets on every insert, quadratic in the tensor count (minutes for 100,000 tensors).
        func update(_ component: Component, _ body: (inout (a: Side, b: Side, pairs: Int)) -> Void) {
            body(&sides[component, default: (Side(), Side(), 0)])
        }
        for pair in alignment.pairs {
            update(pair.component) { entry in
                entry.pairs += 1
                entry.a.tensors.insert(pair.a.tensor)
                entry.a.aligned.insert(pair.a.tensor)
                entry.b.tensors.insert(pair.b.tensor)
                entry.b.aligned.insert(pair.b.tensor)
            }
        }
        for leftover in alignment.onlyInA where leftover.kind != .setAside {
            update(leftover.component) { entry in
                entry.a.tensors.insert(leftover.tensor)
                entry.a.only.insert(leftover.tensor)
            }
        }
        for leftover in alignment.onlyInB where leftover.kind != .setAside {
            update(leftover.component) { entry in
                entry.b.tensors.insert(leftover.tensor)
                entry.b.only.insert(leftover.tensor)
            }
        }
        func parameters(_ set: Set<Int>, _ checkpoint: Checkpoint) -> Int {
            set.reduce(0) { $0 + checkpoint.tensors[$1].info.elementCount }
        }
        func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 1 : Double(part) / Double(whole) }
        return sides.keys.sorted().compactMap { component in
            guard let entry = sides[component] else { return nil }
            let aParameters = parameters(entry.a.tensors, a), bParameters = parameters(entry.b.tensors, b)
            return ComponentCoverage(
                component: component,
                aTensors: entry.a.tensors.count, aParameters: aParameters,
                bTensors: entry.b.tensors.count, bParameters: bParameters,
                pairs: entry.pairs,
                onlyInA: entry.a.only.count, onlyInAParameters: parameters(entry.a.only, a),
                onlyInB: entry.b.only.count, onlyInBParameters: parameters(entry.b.only, b),
                alignedShareA: share(parameters(entry.a.aligned, a), aParameters),
                alignedShareB: share(parameters(entry.b.aligned, b), bParameters))
        }
    }
}

extension ComparisonReport.TensorEntry {
    /// The report entry of one comparison, with its diagnosis when diagnosis ran.
    public init(_ c: TensorComparison, diagnosis: PairDiagnosis? = nil) {
        let compared = c.valuesCompared || c.identical
        name = c.name
        aName = c.aName
        bName = c.bName
        component = c.component
        transform = c.transform
        aDType = c.aDType
        bDType = c.bDType
        aShape = c.aShape
        bShape = c.bShape
        numel = c.elementCount
        identical = c.identical
        verdict = diagnosis?.verdict ?? c.verdict
        dtypeClassChange = c.isDTypeClassChange
        atol = c.tolerance?.atol
        rtol = c.tolerance?.rtol
        note = c.note
        if let diagnosis {
            evidence = diagnosis.evidence.isEmpty ? nil : diagnosis.evidence
            scale = diagnosis.scale.map(ReportNumber.init)
            permutation = diagnosis.permutation
            holds = diagnosis.holds
            convention = diagnosis.convention
        }
        if let target = c.castTarget {
            castTarget = target.name
            castExact = c.castExact
            castOverflow = c.castOverflow
            castFlushed = c.castFlushed
            castNaN = c.castNaN
            castMismatch = c.castMismatch
            reverseCastMismatch = c.reverseCastMismatch
        }
        guard compared && c.tolerance != nil else { return }
        maxAbs = ReportNumber(c.maxAbs)
        maxAbsIndex = c.maxAbsIndex
        meanAbs = ReportNumber(c.meanAbs)
        rmse = ReportNumber(c.rmse)
        relL2 = ReportNumber(c.relativeL2)
        cosine = ReportNumber(c.cosine)
        mismatched = c.mismatched
        aNaN = c.aNaN
        aInf = c.aInf
        bNaN = c.bNaN
        bInf = c.bInf
        newNonfinite = c.newNonFinite
        underflowToZero = c.underflowToZero
        aBeyondF16 = c.bDType == .f16 ? c.aBeyondF16 : nil
        var buckets: [String: Int] = [:]
        for (label, value) in zip(TensorComparison.histogramBuckets, c.histogram) { buckets[label] = value }
        histogram = buckets
    }
}
