import Checkpoints
import Comparison
import Safetensors

extension ComparisonReport {
    /// Writes the gate outcome into the report, once: the policy (and the tolerance setting it
    /// states), the gate, the baseline comparison, `summary.verdict` and `summary.exit_code`.
    mutating func settle(_ outcome: GateOutcome) {
        policy = outcome.policy
        tolerance = ToleranceSetting(outcome.policy)
        gate = outcome.gate
        baseline = outcome.baseline
        summary.verdict = outcome.verdict
        summary.exitCode = outcome.exitCode
    }

    /// What each category finds, per component; categories and components that find nothing are left out.
    public func checks(_ categories: [FailOnCategory]) -> [Gate.Check] {
        var out: [Gate.Check] = []
        for category in categories {
            var byComponent: [Component: [String]] = [:]
            for (component, name) in offenders(of: category) { byComponent[component, default: []].append(name) }
            for component in byComponent.keys.sorted() {
                out.append(Gate.Check(category: category.name, component: component.rawValue, offenders: byComponent[component] ?? []))
            }
        }
        return out
    }

    /// (component, name) of everything `category` counts, in report order.
    func offenders(of category: FailOnCategory) -> [(Component, String)] {
        let differenceClasses: Set<LeftoverClass> = [.weight, .unknown]
        func pairs(_ test: (TensorEntry) -> Bool) -> [(Component, String)] {
            tensors.filter { $0.convention == nil && test($0) }.map { ($0.component, $0.name) }
        }
        switch category {
        case .missing:
            return onlyInA.filter { differenceClasses.contains($0.class) }.map { ($0.component, $0.name) }
        case .extra:
            return onlyInB.filter { differenceClasses.contains($0.class) }.map { ($0.component, $0.name) }
        case .emaMissing:
            return (onlyInA + onlyInB).filter { $0.class == .ema && !Self.isEMASetting($0.name) }
                .map { ($0.component, $0.name) }
        case .renamed:
            return renamed.map { ($0.component, $0.bName) }
        case .dtype:
            return tensors.filter { $0.aDType != $0.bDType }.map { ($0.component, $0.name) }
        case .shape:
            return pairs { $0.verdict == .shapeMismatch }
        case .nonfinite:
            return pairs { ($0.newNonfinite ?? 0) > 0 || $0.verdict == .nonfinite }
        case .transposed:
            return pairs { $0.verdict == .transposed }
        case .tolerance:
            return pairs { ($0.mismatched ?? 0) > 0 || $0.verdict == .outOfTolerance }
        case .verdict(let name):
            return pairs { $0.verdict.rawValue == name }
        case .coverageBelow(let percent):
            return components.filter { min($0.alignedShareA, $0.alignedShareB) * 100 < percent }
                .map { ($0.component, $0.component.rawValue) }
        }
    }
}

extension ComparisonReport {
    /// Whether a key is an EMA setting (`model_ema.decay`, `model_ema.num_updates`) rather than an EMA weight.
    static func isEMASetting(_ name: String) -> Bool {
        name == "model_ema.decay" || name == "model_ema.num_updates"
    }
}

/// Components in `Component` order, unknown names last and alphabetically.
func componentOrder(_ lhs: String, _ rhs: String) -> Bool {
    switch (Component(rawValue: lhs), Component(rawValue: rhs)) {
    case let (l?, r?): return l < r
    case (_?, nil): return true
    case (nil, _?): return false
    case (nil, nil): return lhs < rhs
    }
}
