import Checkpoints
import Foundation
import Comparison
import Safetensors

/// What counts as equivalent: the tolerances applied to each pair and the categories of
/// difference that fail the gate (exit status 1).
///
/// A policy is built in layers, each one overriding the one below it: the defaults
/// (``Policy/default``), then a policy file (`--policy FILE`), then the command line. Within
/// the effective policy the tolerance of a pair is chosen by specificity (see
/// ``resolve(_:)``): a key glob, else a component override, else the fixed tolerance
/// (`--atol`/`--rtol`), else the per-dtype table. `docs/policy.md` documents the file format.
public struct Policy: Sendable, Codable, Equatable {
    /// The version of the policy file format.
    public static let formatVersion = 1

    public var ckdiffPolicyVersion: Int = Policy.formatVersion
    /// One tolerance for every floating-point pair in place of the per-dtype table, or nil.
    public var tolerance: Tolerance?
    /// Tolerance per floating-point dtype name (`F16`, `BF16`, …); a pair takes its looser dtype's.
    public var dtypes: [String: Tolerance]
    /// Tolerance per component (`unet`, `vae`, `clip_l`, `open_clip`, `ema`, `other`).
    public var components: [String: Tolerance]
    /// Tolerance per key glob, first match wins; a glob matches the report name, A's name or B's name.
    public var keys: [KeyRule]
    /// The categories of difference that fail the gate (``FailOnCategory``).
    public var failOn: [String]
    /// Where the layers came from, lowest first (`defaults`, `file:PATH`, `manifest:PATH`, `command line`).
    public var sources: [String]

    enum CodingKeys: String, CodingKey {
        case ckdiffPolicyVersion = "ckdiff_policy_version"
        case tolerance, dtypes, components, keys
        case failOn = "fail_on"
        case sources
    }

    /// A tolerance for the tensors whose names match a glob.
    public struct KeyRule: Sendable, Codable, Equatable {
        /// A POSIX `fnmatch` pattern without pathname rules: `*` also matches `.` and `/`.
        public var glob: String
        public var atol: Double
        public var rtol: Double

        public init(glob: String, tolerance: Tolerance) {
            self.glob = glob
            self.atol = tolerance.atol
            self.rtol = tolerance.rtol
        }

        public var tolerance: Tolerance { Tolerance(atol: atol, rtol: rtol) }
    }

    public init(tolerance: Tolerance? = nil, dtypes: [String: Tolerance], components: [String: Tolerance] = [:],
                keys: [KeyRule] = [], failOn: [String], sources: [String]) {
        self.tolerance = tolerance
        self.dtypes = dtypes
        self.components = components
        self.keys = keys
        self.failOn = failOn
        self.sources = sources
    }

    /// The floating-point dtypes the per-dtype table may name.
    public static let tableDTypes: [DType] = DType.allCases.filter { $0.kind == .floatingPoint }

    /// The fail-on list of the default policy: weights missing or extra, EMA weights missing, renamed
    /// tensors, elements outside the tolerance, and every verdict that ``Verdict/isDifference`` calls a
    /// difference (so verdicts added later join it by themselves). It reproduces the verdict ckdiff
    /// gives without a policy.
    public static var defaultFailOn: [String] {
        [FailOnCategory.missing, .extra, .emaMissing, .renamed, .tolerance].map(\.name)
            + Verdict.allCases.filter(\.isDifference).map(\.rawValue)
    }

    /// The defaults: torch.testing's per-dtype tolerances and ``defaultFailOn``. They reproduce
    /// ckdiff's behaviour without a policy.
    public static var `default`: Policy {
        var table: [String: Tolerance] = [:]
        for dtype in tableDTypes {
            if let tolerance = Tolerance.defaultFor(dtype) { table[dtype.name] = tolerance }
        }
        return Policy(dtypes: table, failOn: defaultFailOn, sources: ["defaults"])
    }
}

extension Policy {
    /// The policy as JSON text (a valid policy file).
    public func jsonData() throws -> Data {
        try ReportJSON.encode(self)
    }
}
