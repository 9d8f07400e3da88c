import Checkpoints
import Comparison

/// How a comparison stands against its baseline: regressions fail the gate, improvements do not.
public struct BaselineOutcome: Sendable, Codable, Equatable {
    /// The baseline file, as given.
    public var path: String
    /// The slack the baseline states.
    public var slack: Baseline.Slack
    /// Changes for the worse: each one makes the exit status 1.
    public var regressions: [Change]
    /// Changes for the better, reported only.
    public var improvements: [Change]
    /// Changes that are neither (a new informational finding, a changed benign leftover), reported only.
    public var notes: [Change]

    public init(path: String, slack: Baseline.Slack, regressions: [Change], improvements: [Change], notes: [Change]) {
        self.path = path
        self.slack = slack
        self.regressions = regressions
        self.improvements = improvements
        self.notes = notes
    }

    /// One change against the baseline.
    public struct Change: Sendable, Codable, Equatable {
        /// What changed: `max_abs`, `rel_l2`, `verdict`, `nonfinite`, `dtype`, `missing`, `extra`, `gone`, `finding`.
        public var kind: String
        /// The tensor (report name or key), or for a finding its kind.
        public var name: String
        /// The component concerned.
        public var component: String
        /// One line for people.
        public var message: String
        /// For a finding: the tensors it names (nil otherwise, and in reports of earlier versions).
        public var tensors: [String]?

        public init(kind: String, name: String, component: String, message: String, tensors: [String]? = nil) {
            self.kind = kind
            self.name = name
            self.component = component
            self.message = message
            self.tensors = tensors
        }
    }
}

extension BaselineOutcome {
    /// Holds `report` against `baseline` (the gate then fails only on regressions; see ``GateOutcome``).
    ///
    /// Rules (pairs matched by report name, keys by name, findings by kind and tensor set):
    /// - a pair regresses when its `max_abs` or `rel_l2` exceeds the baseline's beyond the slack, when its
    ///   verdict becomes a difference (`Verdict.isDifference` and no `convention`; an unknown verdict counts
    ///   as one) while the baseline's was not, when `new_nonfinite` grows, or when its dtypes differ and are not the
    ///   baseline's pair of dtypes;
    /// - a key of class `weight`, `unknown` or `ema` newly on one side only regresses (`missing`, `extra`);
    /// - a baseline pair that is no longer compared nor listed as missing regresses (`gone`);
    /// - a finding of severity `warning` or `error` the baseline lacks regresses (`finding`);
    /// - the reverse of each is an improvement; a new `info` finding is a note.
    public init(holding report: ComparisonReport, against baseline: Baseline, path: String) {
        let tensors = report.tensors, onlyInA = report.onlyInA, onlyInB = report.onlyInB, findings = report.findings
        var regressions: [BaselineOutcome.Change] = [], improvements: [BaselineOutcome.Change] = []
        var notes: [BaselineOutcome.Change] = []
        let slack = baseline.slack
        let known = Dictionary(baseline.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func isDifference(_ verdict: String, _ convention: String?) -> Bool {
            convention == nil && (Verdict(rawValue: verdict)?.isDifference ?? true)
        }
        func metric(_ kind: String, _ now: ReportNumber?, _ before: ReportNumber?, floor: Double, _ t: ComparisonReport.TensorEntry) {
            guard let now = now?.value, let before = before?.value else { return }
            let text = "\(kind) \(formatSignificant(before, digits: 3)) → \(formatSignificant(now, digits: 3))"
            if now.isNaN && !before.isNaN || now > before * (1 + slack.relative) + floor {
                regressions.append(.init(kind: kind, name: t.name, component: t.component.rawValue, message: "\(t.name): \(text)"))
            } else if before.isNaN && !now.isNaN || now * (1 + slack.relative) + floor < before {
                improvements.append(.init(kind: kind, name: t.name, component: t.component.rawValue, message: "\(t.name): \(text)"))
            }
        }
        var compared = Set<String>()
        for t in tensors {
            compared.insert(t.name)
            guard let old = known[t.name] else { continue }
            metric("max_abs", t.maxAbs, old.maxAbs, floor: slack.maxAbsFloor, t)
            metric("rel_l2", t.relL2, old.relL2, floor: slack.relL2Floor, t)
            if isDifference(t.verdict.rawValue, t.convention) && !isDifference(old.verdict, old.convention) {
                regressions.append(.init(kind: "verdict", name: t.name, component: t.component.rawValue,
                                         message: "\(t.name): verdict \(old.verdict) → \(t.verdict.rawValue)"))
            } else if !isDifference(t.verdict.rawValue, t.convention) && isDifference(old.verdict, old.convention) {
                improvements.append(.init(kind: "verdict", name: t.name, component: t.component.rawValue,
                                          message: "\(t.name): verdict \(old.verdict) → \(t.verdict.rawValue)"))
            }
            let newNow = t.newNonfinite ?? 0, newBefore = old.newNonfinite ?? 0
            if newNow > newBefore {
                regressions.append(.init(kind: "nonfinite", name: t.name, component: t.component.rawValue,
                                         message: "\(t.name): values finite in A but NaN/Inf in B: \(newBefore) → \(newNow)"))
            } else if newNow < newBefore {
                improvements.append(.init(kind: "nonfinite", name: t.name, component: t.component.rawValue,
                                          message: "\(t.name): values finite in A but NaN/Inf in B: \(newBefore) → \(newNow)"))
            }
            let (aDType, bDType) = (t.aDType.name, t.bDType.name)
            if aDType != bDType && (aDType, bDType) != (old.aDType, old.bDType) {
                regressions.append(.init(kind: "dtype", name: t.name, component: t.component.rawValue,
                                         message: "\(t.name): dtypes \(old.aDType)/\(old.bDType) → \(aDType)/\(bDType)"))
            } else if aDType == bDType && old.aDType != old.bDType {
                improvements.append(.init(kind: "dtype", name: t.name, component: t.component.rawValue,
                                          message: "\(t.name): dtypes \(old.aDType)/\(old.bDType) → \(aDType)/\(bDType)"))
            }
        }
        let counted: Set<String> = [LeftoverClass.weight.rawValue, LeftoverClass.unknown.rawValue, LeftoverClass.ema.rawValue]
        // This run's leftovers as the baseline states its keys (strings: a baseline may come from another version).
        func keys(_ entries: [ComparisonReport.LeftoverEntry]) -> [Baseline.Key] {
            entries.map { Baseline.Key(name: $0.name, component: $0.component.rawValue, class: $0.class.rawValue) }
        }
        for (kind, now, before, side) in [("missing", keys(onlyInA), baseline.onlyInA, "B lacks"), ("extra", keys(onlyInB), baseline.onlyInB, "A lacks")] {
            let nowNames = Set(now.filter { counted.contains($0.class) }.map(\.name))
            let beforeNames = Set(before.filter { counted.contains($0.class) }.map(\.name))
            for entry in now where counted.contains(entry.class) && !beforeNames.contains(entry.name) {
                regressions.append(.init(kind: kind, name: entry.name, component: entry.component,
                                         message: "\(entry.name): \(side) this \(entry.class) key (new since the baseline)"))
            }
            for entry in before where counted.contains(entry.class) && !nowNames.contains(entry.name) {
                improvements.append(.init(kind: kind, name: entry.name, component: entry.component,
                                          message: "\(entry.name): no longer only on one side"))
            }
        }
        let missingNow = Set(onlyInA.map(\.name))
        for old in baseline.tensors where !compared.contains(old.name) && !missingNow.contains(old.name) {
            regressions.append(.init(kind: "gone", name: old.name, component: old.component,
                                     message: "\(old.name): compared in the baseline, not in this run"))
        }
        func key(_ f: Finding) -> String { f.kind + "\u{0}" + f.tensors.sorted().joined(separator: "\u{0}") }
        let knownFindings = Set(baseline.findings.map(key)), nowFindings = Set(findings.map(key))
        for f in findings where !knownFindings.contains(key(f)) {
            let change = BaselineOutcome.Change(kind: "finding", name: f.kind, component: report.findingComponent(f),
                                                message: "new finding (\(f.severity.rawValue)): \(f.message)", tensors: f.tensors)
            if f.severity >= .warning { regressions.append(change) } else { notes.append(change) }
        }
        for f in baseline.findings where !nowFindings.contains(key(f)) {
            improvements.append(.init(kind: "finding", name: f.kind, component: report.findingComponent(f),
                                      message: "finding gone: \(f.message)", tensors: f.tensors))
        }
        self.init(path: path, slack: slack, regressions: regressions, improvements: improvements, notes: notes)
    }
}

extension ComparisonReport {
    /// The component of a finding's first tensor that the report knows, else `other`.
    func findingComponent(_ finding: Finding) -> String {
        for name in finding.tensors {
            if let entry = tensors.first(where: { $0.name == name }) { return entry.component.rawValue }
        }
        return Component.other.rawValue
    }
}

extension BaselineOutcome {
    /// The regressions grouped by what regressed: one entry per tensor or key, in first-seen order,
    /// with every change of it (`max_abs`, `rel_l2`, `verdict`, …); a finding naming one tensor
    /// counts under that tensor, any other finding on its own.
    ///
    /// One changed tensor is one regression however many of its metrics moved.
    public var regressionsBySubject: [(name: String, changes: [Change])] {
        Self.grouped(regressions)
    }

    /// The improvements grouped the same way.
    public var improvementsBySubject: [(name: String, changes: [Change])] {
        Self.grouped(improvements)
    }

    static func grouped(_ changes: [Change]) -> [(name: String, changes: [Change])] {
        var order: [String] = []
        var groups: [String: [Change]] = [:]
        for change in changes {
            let subject: String
            if change.kind != "finding" {
                subject = change.name
            } else if let tensors = change.tensors, tensors.count == 1 {
                subject = tensors[0]
            } else {
                subject = "finding \(change.name): \(change.message)"
            }
            if groups[subject] == nil { order.append(subject) }
            groups[subject, default: []].append(change)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }
}

extension BaselineOutcome.Change {
    /// The message without a leading `subject: ` (shown under the subject it repeats), or with the
    /// subject in front when it lacks it.
    func detail(under subject: String) -> String {
        if kind == "finding" { return message }
        if message.hasPrefix(subject + ": ") { return String(message.dropFirst(subject.count + 2)) }
        return subject.hasPrefix("finding ") ? message : "\(subject): \(message)"
    }
}
