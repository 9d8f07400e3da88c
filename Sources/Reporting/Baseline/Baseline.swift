import Comparison
import Foundation
import Safetensors

/// A known-good comparison that later runs are held against (`--save-baseline`, `--baseline`).
///
/// It keeps, per aligned pair, the verdict and the statistics the regression rules read, the
/// keys found on one side only, coverage per component and the findings. `docs/baseline-format.md`
/// documents the format and the rules; ``slack`` says how much worse a statistic may get.
public struct Baseline: Sendable, Codable {
    /// The version of this format.
    public static let formatVersion = 1

    public var ckdiffBaselineVersion: Int = Baseline.formatVersion
    public var tool: ComparisonReport.Tool
    /// The inputs the baseline was recorded from (informational: a baseline is matched by tensor names).
    public var inputs: ComparisonReport.Inputs
    /// The policy in force when it was recorded (informational).
    public var policy: Policy
    /// How much worse a statistic may get before it is a regression.
    public var slack: Slack
    public var components: [Coverage]
    public var tensors: [Tensor]
    public var onlyInA: [Key]
    public var onlyInB: [Key]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case ckdiffBaselineVersion = "ckdiff_baseline_version"
        case tool, inputs, policy, slack, components, tensors
        case onlyInA = "only_in_a"
        case onlyInB = "only_in_b"
        case findings
    }

    /// The allowance for `max_abs` and `rel_l2`: a value v regresses from its baseline value v₀ when
    /// v > v₀ · (1 + relative) + floor, and improves when v · (1 + relative) + floor < v₀.
    public struct Slack: Sendable, Codable, Equatable {
        /// The relative part (0.05 = 5 %).
        public var relative: Double
        /// The absolute floor for `max_abs`, in the units of the values.
        public var maxAbsFloor: Double
        /// The absolute floor for `rel_l2`.
        public var relL2Floor: Double

        enum CodingKeys: String, CodingKey {
            case relative
            case maxAbsFloor = "max_abs_floor"
            case relL2Floor = "rel_l2_floor"
        }

        public init(relative: Double, maxAbsFloor: Double, relL2Floor: Double) {
            self.relative = relative
            self.maxAbsFloor = maxAbsFloor
            self.relL2Floor = relL2Floor
        }

        /// 5 % relative, floors of 1e-6: a re-run on another CPU (last-bit differences in sums) or a
        /// re-conversion that rounds a few elements the other way stays within it; a changed weight does not.
        public static let standard = Slack(relative: 0.05, maxAbsFloor: 1e-6, relL2Floor: 1e-6)
    }

    /// Coverage of one component.
    public struct Coverage: Sendable, Codable, Equatable {
        public var component: String
        public var alignedShareA: Double
        public var alignedShareB: Double

        enum CodingKeys: String, CodingKey {
            case component
            case alignedShareA = "aligned_share_a"
            case alignedShareB = "aligned_share_b"
        }
    }

    /// One aligned pair: what the regression rules compare.
    public struct Tensor: Sendable, Codable, Equatable {
        public var name: String
        public var component: String
        public var aDType: String
        public var bDType: String
        public var verdict: String
        public var maxAbs: ReportNumber?
        public var relL2: ReportNumber?
        public var mismatched: Int?
        public var newNonfinite: Int?
        /// The harmless known convention that explains the pair, if any (it is then no difference).
        public var convention: String?

        enum CodingKeys: String, CodingKey {
            case name, component, convention
            case aDType = "a_dtype"
            case bDType = "b_dtype"
            case verdict
            case maxAbs = "max_abs"
            case relL2 = "rel_l2"
            case mismatched
            case newNonfinite = "new_nonfinite"
        }
    }

    /// A key found on one side only.
    public struct Key: Sendable, Codable, Equatable {
        public var name: String
        public var component: String
        public var `class`: String
    }
}

extension Baseline {
    /// The baseline of a report.
    public init(_ report: ComparisonReport, slack: Slack = .standard) {
        tool = report.tool
        inputs = report.inputs
        policy = report.policy
        self.slack = slack
        components = report.components.map {
            Coverage(component: $0.component.rawValue, alignedShareA: $0.alignedShareA, alignedShareB: $0.alignedShareB)
        }
        tensors = report.tensors.map {
            Tensor(name: $0.name, component: $0.component.rawValue, aDType: $0.aDType.name, bDType: $0.bDType.name,
                   verdict: $0.verdict.rawValue,
                   maxAbs: $0.maxAbs, relL2: $0.relL2, mismatched: $0.mismatched, newNonfinite: $0.newNonfinite,
                   convention: $0.convention)
        }
        onlyInA = report.onlyInA.map { Key(name: $0.name, component: $0.component.rawValue, class: $0.class.rawValue) }
        onlyInB = report.onlyInB.map { Key(name: $0.name, component: $0.component.rawValue, class: $0.class.rawValue) }
        findings = report.findings
    }

    /// The baseline as JSON text (the report conventions: sorted keys, NaN as `"nan"`).
    public func jsonData() throws -> Data {
        try ReportJSON.encode(self)
    }

    /// Reads a baseline file.
    ///
    /// Through ``SavedJSON``: a regular file of at most 32 MiB (a FIFO or device is refused without
    /// blocking), no member given twice, no integer beyond ±2^60; then the slack must be finite
    /// and ≥ 0 and the counts ≥ 0 (``validate(path:)``).
    public static func read(_ path: String) throws(PolicyError) -> Baseline {
        let data = try SavedJSON.read(path, what: "baseline")
        struct Version: Decodable {
            var ckdiffBaselineVersion: Int?
            enum CodingKeys: String, CodingKey { case ckdiffBaselineVersion = "ckdiff_baseline_version" }
        }
        guard let version = try? JSONDecoder().decode(Version.self, from: data).ckdiffBaselineVersion else {
            throw PolicyError("\(path): not a ckdiff baseline (no ckdiff_baseline_version)")
        }
        guard version == formatVersion else {
            throw PolicyError("\(path): baseline version \(version) is not supported (this ckdiff reads version \(formatVersion))")
        }
        let baseline: Baseline
        do {
            baseline = try JSONDecoder().decode(Baseline.self, from: data)
        } catch {
            throw PolicyError("\(path): not a valid baseline: \(oneLine(error))")
        }
        try baseline.validate(path: path)
        return baseline
    }

    /// Refuses a slack that is not finite and ≥ 0, or a negative count.
    func validate(path: String) throws(PolicyError) {
        for (name, value) in [("relative", slack.relative), ("max_abs_floor", slack.maxAbsFloor), ("rel_l2_floor", slack.relL2Floor)]
        where !(value.isFinite && value >= 0) {
            throw PolicyError("\(path): not a valid baseline: slack.\(name) is \(value); it must be a finite number ≥ 0")
        }
        for tensor in tensors {
            for value in [tensor.mismatched, tensor.newNonfinite].compactMap({ $0 }) where value < 0 {
                throw PolicyError("\(path): not a valid baseline: tensor '\(Printable.text(tensor.name))' has a count of \(value); a count is never negative")
            }
        }
    }
}

/// An error's text on one line.
func oneLine(_ error: any Error) -> String {
    "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
}
