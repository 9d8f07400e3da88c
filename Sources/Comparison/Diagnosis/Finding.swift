/// One cause ckdiff names for a set of differences, ranked by the parameters it touches.
///
/// Findings group per-tensor evidence into root causes ("text_projection kept
/// untransposed (OneTrainer/kohya convention)", "UNet cast from F32 to F16",
/// "B's `x` holds A's `y`"). `kind` is a stable snake_case identifier CI
/// policies and baselines may match on; `message` is one line for people.
public struct Finding: Sendable, Hashable, Codable {
    /// How much a finding matters under the default policy.
    public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
        /// A layout convention or a harmless difference, reported for completeness.
        case info
        /// A change worth a look that does not make the checkpoints different by itself.
        case warning
        /// A difference that damages or changes the model.
        case error

        /// 0 for info, 1 for warning, 2 for error.
        var rank: Int {
            switch self {
            case .info: return 0
            case .warning: return 1
            case .error: return 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs.rank < rhs.rank
        }
    }

    /// A stable identifier of the cause (`"exact_cast"`, `"text_projection_orientation"`, …).
    public var kind: String
    /// How much it matters.
    public var severity: Severity
    /// The report names of the tensors concerned, in report order.
    public var tensors: [String]
    /// The parameters (elements) of those tensors, on A's side where A has them.
    public var parameters: Int
    /// One line for people.
    public var message: String

    public init(kind: String, severity: Severity, tensors: [String], parameters: Int, message: String) {
        self.kind = kind
        self.severity = severity
        self.tensors = tensors
        self.parameters = parameters
        self.message = message
    }
}
