import Comparison

extension ComparisonReport {
    /// What the gate decided, as the first line of every human report says it.
    ///
    /// `EQUIVALENT` is printed only when no fail-on check found anything *and* no finding has
    /// severity `error`: a narrowed fail-on list (`--fail-on only:dtype`) that lets errors through
    /// says so instead of calling the pair equivalent.
    public enum Headline: Sendable, Equatable {
        /// No fail-on check found anything and no error was found.
        case equivalent
        /// A fail-on check found something (policy gate, exit 1).
        case different
        /// The gate passed (exit 0) while this many findings of severity `error` were outside its checks.
        case waived(errors: Int)
        /// Held against a baseline: no regression; the tensors and keys the checks found are known differences.
        case noRegression(known: Int)
        /// Held against a baseline: this many tensors (or keys, or findings) regressed.
        case regressed(subjects: Int)
    }

    /// The gate's decision for people (see ``Headline``).
    public var headline: Headline {
        if gate.mode == .baseline, let baseline {
            if gate.failed { return .regressed(subjects: baseline.regressionsBySubject.count) }
            return .noRegression(known: Set(gate.triggered.flatMap(\.offenders)).count)
        }
        if gate.failed { return .different }
        let errors = findings.filter { $0.severity == .error }.count
        return errors > 0 ? .waived(errors: errors) : .equivalent
    }

    /// The headline's first word, stable for scripts (`--brief`): `EQUIVALENT`, `DIFFERENT`,
    /// `WAIVED`, `NO-REGRESSION` or `REGRESSED`.
    public var headlineWord: String {
        switch headline {
        case .equivalent: return "EQUIVALENT"
        case .different: return "DIFFERENT"
        case .waived: return "WAIVED"
        case .noRegression: return "NO-REGRESSION"
        case .regressed: return "REGRESSED"
        }
    }

    /// The headline in words after its first word, e.g. `EQUIVALENT (exit 0)` or
    /// `WAIVED (exit 0): the gate passed, but 3 errors are outside its checks (fail on: dtype)`.
    func headlineText(style: TerminalStyle = TerminalStyle(enabled: false)) -> String {
        let exit = "(exit \(summary.exitCode))"
        switch headline {
        case .equivalent:
            return "\(style.green("EQUIVALENT")) \(exit)"
        case .different:
            return "\(style.red("DIFFERENT")) \(exit)"
        case .waived(let errors):
            return "\(style.yellow("WAIVED")) \(exit): the gate passed, but \(counted(errors, "error finding")) "
                + "\(errors == 1 ? "is" : "are") outside its checks (fail on: \(policy.failOn.joined(separator: ", ")))"
        case .noRegression(let known):
            let text = "NO-REGRESSION \(exit): no regression against the baseline"
            return style.green(text) + (known > 0 ? " (known differences: \(knownDifferencesText))" : "")
        case .regressed(let subjects):
            return "\(style.red("REGRESSED")) \(exit): \(counted(subjects, "regression")) against the baseline"
        }
    }

    /// The headline as the Markdown summary's heading writes it, in lower case after its icon:
    /// `different (exit 1)`, `waived (exit 0): the gate passed, but …`,
    /// `no regression against the baseline (exit 0); known differences: …`.
    var headlineMarkdown: String {
        let exit = "(exit \(summary.exitCode))"
        switch headline {
        case .equivalent: return "equivalent \(exit)"
        case .different: return "different \(exit)"
        case .waived(let errors):
            return "waived \(exit): the gate passed, but \(counted(errors, "error finding")) "
                + "\(errors == 1 ? "is" : "are") outside its checks (fail on: \(policy.failOn.joined(separator: ", ")))"
        case .noRegression(let known):
            return "no regression against the baseline \(exit)" + (known > 0 ? "; known differences: \(knownDifferencesText)" : "")
        case .regressed(let subjects):
            return "regressed against the baseline \(exit): \(counted(subjects, "regression"))"
        }
    }

    /// The fail-on checks that found something, as `category N` over all components, in fail-on order.
    var knownDifferencesText: String {
        var order: [String] = []
        var names: [String: Set<String>] = [:]
        for check in gate.triggered {
            if names[check.category] == nil { order.append(check.category) }
            names[check.category, default: []].formUnion(check.offenders)
        }
        return order.map { "\($0) \(names[$0]?.count ?? 0)" }.joined(separator: ", ")
    }
}

/// `n` and a noun, with an `s` unless `n` is 1 (`1 error`, `3 errors`, `0 tensors`).
func counted(_ n: Int, _ noun: String) -> String {
    "\(n) \(noun)\(n == 1 ? "" : "s")"
}
