import Checkpoints
import Comparison

extension InspectReport {
    /// Single-file health findings: what in one checkpoint will break or degrade a load or a save.
    ///
    /// - `mixed_dtypes` (warning): a component whose floating-point tensors do not share one dtype
    ///   (``dtypeMixes``), the source of "expected scalar type Float but found Half";
    /// - `nonfinite` (error, needs `--scan`): NaN or ±Inf values;
    /// - `f16_overflow_risk` (warning, needs `--scan`): finite values beyond 65504 in tensors that are
    ///   not F16, which an F16 save turns into ±Inf.
    ///
    /// Most parameters first, as in the comparison report.
    static func healthFindings(mixes: [DTypeMix], scan: ScanSummary?, tensorParameters: [String: Int]) -> [Finding] {
        var findings: [Finding] = []
        for mix in mixes {
            let name = Component(rawValue: mix.component)?.displayName ?? mix.component
            let minority = mix.dtypes.dropFirst()
            let tensors = minority.flatMap(\.examples)
            let text = mix.dtypes.map { "\($0.dtype) \($0.tensors)" }.joined(separator: ", ")
            findings.append(Finding(kind: "mixed_dtypes", severity: .warning, tensors: tensors,
                                    parameters: tensors.reduce(0) { $0 + (tensorParameters[$1] ?? 0) },
                                    message: "\(name) mixes dtypes (\(text)): loading it as one module in one dtype fails with \"expected scalar type Float but found Half\""))
        }
        if let scan {
            let nonfinite = scan.tensors.filter { $0.counts.nan + $0.counts.posInf + $0.counts.negInf > 0 }
            if !nonfinite.isEmpty {
                let nan = nonfinite.reduce(0) { $0 + $1.counts.nan }
                let inf = nonfinite.reduce(0) { $0 + $1.counts.posInf + $1.counts.negInf }
                findings.append(Finding(kind: "nonfinite", severity: .error, tensors: nonfinite.map(\.name),
                                        parameters: nonfinite.reduce(0) { $0 + (tensorParameters[$1.name] ?? 0) },
                                        message: "\(nonfinite.count) tensors hold \(nan) NaN and \(inf) infinite values"))
            }
            let risky = scan.tensors.filter { $0.counts.beyondF16 > 0 && $0.dtype != "F16" }
            if !risky.isEmpty {
                let values = risky.reduce(0) { $0 + $1.counts.beyondF16 }
                findings.append(Finding(kind: "f16_overflow_risk", severity: .warning, tensors: risky.map(\.name),
                                        parameters: risky.reduce(0) { $0 + (tensorParameters[$1.name] ?? 0) },
                                        message: "\(values) values in \(risky.count) tensors exceed F16's largest finite value 65504: saving this model as F16 turns them into ±Inf"))
            }
        }
        return findings.enumerated().sorted { l, r in
            l.element.parameters != r.element.parameters ? l.element.parameters > r.element.parameters : l.offset < r.offset
        }.map(\.element)
    }
}
