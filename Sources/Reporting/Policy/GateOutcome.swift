import Checkpoints
import Comparison

/// The final outcome of a comparison: the policy's fail-on checks, then the baseline's
/// regressions when one is given, decided once and in that order.
///
/// Built by ``decide(_:policy:baseline:)`` from the report's facts (pairs, leftovers, coverage,
/// findings) and written into the report once by ``ComparisonReport/settle(_:)``: the policy
/// decides `summary.verdict` and the triggered checks; a baseline, when given, decides the gate
/// (mode `baseline`: it fails only on regressions) and the exit status.
public struct GateOutcome: Sendable {
    /// The policy that decided (recorded in the report with the layers it came from).
    public let policy: Policy
    /// The gate: its mode, whether it failed, and the fail-on checks that found something.
    public let gate: Gate
    /// The comparison with the baseline, when one was given.
    public let baseline: BaselineOutcome?
    /// `equivalent` when no fail-on check found anything, else `different`.
    public let verdict: ComparisonReport.Outcome
    /// The exit status: 1 when the gate failed, else 0.
    public let exitCode: Int

    /// Applies `policy`, then `baseline` when given, to a report's facts.
    ///
    /// - Parameters:
    ///   - report: The report whose pairs, leftovers, coverage and findings are judged (its own
    ///     gate, verdict and baseline fields are not read).
    ///   - policy: The tolerances and fail-on list in force.
    ///   - baseline: A baseline to hold the report against, with the path it was read from.
    public static func decide(_ report: ComparisonReport, policy: Policy,
                              baseline: (Baseline, path: String)? = nil) -> GateOutcome {
        let triggered = report.checks(policy.failOnCategories)
        let verdict: ComparisonReport.Outcome = triggered.isEmpty ? .equivalent : .different
        guard let (baseline, path) = baseline else {
            return GateOutcome(policy: policy, gate: Gate(mode: .policy, failed: !triggered.isEmpty, triggered: triggered),
                               baseline: nil, verdict: verdict, exitCode: triggered.isEmpty ? 0 : 1)
        }
        let held = BaselineOutcome(holding: report, against: baseline, path: path)
        let failed = !held.regressions.isEmpty
        return GateOutcome(policy: policy, gate: Gate(mode: .baseline, failed: failed, triggered: triggered),
                           baseline: held, verdict: verdict, exitCode: failed ? 1 : 0)
    }
}
