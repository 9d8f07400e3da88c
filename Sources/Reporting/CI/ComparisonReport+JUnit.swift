import Checkpoints
import Comparison

extension ComparisonReport {
    /// The checks of this report as JUnit test suites: one suite per component, one test case per check.
    ///
    /// Under a policy the checks are the fail-on categories: a case fails when its category found
    /// something in the component. Against a baseline the checks are the regression rules (no worse
    /// statistics, no new non-finite values, no new dtype mismatch, no newly missing key, no new extra
    /// key, no new finding), and the differences the baseline already has are listed in the suite's
    /// output, not failed: so the cases fail exactly when the exit status is 1.
    ///
    /// - Parameters:
    ///   - pair: The pair's name in a batch; suites are then named `PAIR.COMPONENT`.
    ///   - time: Seconds the comparison took, spread over the suites.
    public func junitSuites(pair: String? = nil, time: Double = 0) -> [JUnitDocument.Suite] {
        let prefix = pair.map { "\($0)." } ?? ""
        var names = components.map(\.component.rawValue)
        let extra = gate.triggered.map(\.component) + (baseline?.regressions.map(\.component) ?? [])
        for name in extra where !names.contains(name) { names.append(name) }
        names.sort(by: componentOrder)
        let share = names.isEmpty ? 0 : time / Double(names.count)
        return names.map { component in
            let classname = "ckdiff.\(prefix)\(component)"
            var cases: [JUnitDocument.Case] = []
            var notes: [String] = []
            if let baseline {
                let rules: [(String, Set<String>)] = [
                    ("no worse statistics", ["max_abs", "rel_l2", "verdict"]),
                    ("no new non-finite values", ["nonfinite"]),
                    ("no new dtype mismatch", ["dtype"]),
                    ("no newly missing keys", ["missing", "gone"]),
                    ("no new extra keys", ["extra"]),
                    ("no new findings", ["finding"]),
                ]
                for (name, kinds) in rules {
                    let found = baseline.regressions.filter { $0.component == component && kinds.contains($0.kind) }
                    cases.append(JUnitDocument.Case(name: name, classname: classname, outcome: found.isEmpty ? .passed : .failure(
                        type: "regression", message: "\(found.count) \(found.count == 1 ? "regression" : "regressions") on \(distinctNames(found))",
                        details: found.prefix(200).map(\.message).joined(separator: "\n"))))
                }
                for check in gate.triggered where check.component == component {
                    notes.append("known difference (\(check.category)): \(check.offenders.count) — held against the baseline")
                }
                for change in baseline.improvements where change.component == component {
                    notes.append("improvement: \(change.message)")
                }
            } else {
                for category in policy.failOn {
                    let check = gate.triggered.first { $0.category == category && $0.component == component }
                    guard let check else {
                        cases.append(JUnitDocument.Case(name: category, classname: classname, outcome: .passed))
                        continue
                    }
                    let message = "\(check.offenders.count) \(check.offenders.count == 1 ? "offender" : "offenders"): \(check.offenders.prefix(3).joined(separator: ", "))\(check.offenders.count > 3 ? ", …" : "")"
                    cases.append(JUnitDocument.Case(name: category, classname: classname, outcome: .failure(
                        type: category, message: message, details: offenderDetails(check.offenders))))
                }
            }
            for finding in findings where findingComponent(finding) == component {
                notes.append("finding (\(finding.severity.rawValue), \(finding.kind)): \(finding.message) [\(finding.tensors.count) tensors]")
            }
            return JUnitDocument.Suite(name: "\(prefix)\(component)", package: "ckdiff\(pair.map { ".\($0)" } ?? "")",
                                       cases: cases, systemOut: notes.joined(separator: "\n"), time: share)
        }
    }

    /// The distinct tensor names of some changes, the first three spelled out.
    private func distinctNames(_ changes: [BaselineOutcome.Change]) -> String {
        var seen: [String] = []
        for change in changes where !seen.contains(change.name) { seen.append(change.name) }
        return seen.prefix(3).joined(separator: ", ") + (seen.count > 3 ? ", … (\(seen.count) in all)" : "")
    }

    /// One line per offender: a pair with its statistics, or a leftover with its class.
    func offenderDetails(_ names: [String]) -> String {
        let limit = 200
        var lines: [String] = []
        let pairs = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let leftovers = Dictionary((onlyInA + onlyInB).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in names.prefix(limit) {
            if let t = pairs[name] {
                lines.append("\(name): \(t.verdict.rawValue), max_abs \(stat(t.maxAbs)), rel_l2 \(stat(t.relL2)), mismatched \(t.mismatched.map(String.init) ?? "-")/\(t.numel), \(t.aDType.name)→\(t.bDType.name)")
            } else if let l = leftovers[name] {
                lines.append("\(name): \(l.class.rawValue) \(l.dtype.name) \(l.shape)")
            } else {
                lines.append(name)
            }
        }
        if names.count > limit { lines.append("… \(names.count - limit) more") }
        return lines.joined(separator: "\n")
    }

    /// A suite holding one errored case: the comparison could not run (trouble, exit status 2).
    public static func troubleSuite(pair: String?, message: String) -> JUnitDocument.Suite {
        let name = pair ?? "ckdiff"
        return JUnitDocument.Suite(name: name, package: pair.map { "ckdiff.\($0)" } ?? "ckdiff", cases: [
            JUnitDocument.Case(name: "compare", classname: "ckdiff.\(name)",
                               outcome: .error(type: "trouble", message: message, details: message)),
        ])
    }
}
