/// The outcome of the gate: which fail-on checks found differences, and whether ckdiff fails.
public struct Gate: Sendable, Codable, Equatable {
    /// What decides the exit status, written as `policy` or `baseline`.
    public enum Mode: String, Sendable, Codable {
        /// Exit 1 when a fail-on check found something.
        case policy
        /// Exit 1 only on a regression against the baseline.
        case baseline
    }

    /// What decided the exit status.
    public var mode: Mode
    /// Whether the gate failed (exit status 1).
    public var failed: Bool
    /// The fail-on checks that found something, by category (in fail-on order), then component.
    public var triggered: [Check]

    public init(mode: Mode, failed: Bool, triggered: [Check]) {
        self.mode = mode
        self.failed = failed
        self.triggered = triggered
    }

    /// One fail-on category on one component, and what it found there.
    public struct Check: Sendable, Codable, Equatable {
        /// The fail-on entry (`missing`, `coverage<99`, `out_of_tolerance`, …).
        public var category: String
        /// The component (`unet`, `vae`, …).
        public var component: String
        /// The tensors (pairs by report name, leftovers by key) or, for coverage, the component, that triggered it.
        public var offenders: [String]

        public init(category: String, component: String, offenders: [String]) {
            self.category = category
            self.component = component
            self.offenders = offenders
        }
    }
}
