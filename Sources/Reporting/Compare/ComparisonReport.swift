import Checkpoints
import Comparison
import Safetensors

/// The result of `ckdiff A B`, as written to JSON (format version 1) and rendered for terminals.
///
/// Field names are the JSON names; `docs/report-format.md` documents each one and
/// `docs/ckdiff-report.schema.json` is its JSON Schema. Floats that are NaN or
/// infinite are written as the strings `"nan"`, `"inf"` and `"-inf"`.
public struct ComparisonReport: Sendable, Codable {
    /// The version of this format.
    public static let formatVersion = 1

    public var ckdiffReportVersion: Int = ComparisonReport.formatVersion
    public var tool: Tool
    public var inputs: Inputs
    public var tolerance: ToleranceSetting
    public var summary: Summary
    public var components: [ComponentCoverage]
    public var tensors: [TensorEntry]
    public var onlyInA: [LeftoverEntry]
    public var onlyInB: [LeftoverEntry]
    /// Unaligned tensors of B found to hold unaligned tensors of A (matched by content); they
    /// are listed here instead of in `only_in_a`/`only_in_b`.
    public var renamed: [RenamedEntry] = []
    /// Root causes, most parameters first (filled by diagnosis; empty until it runs).
    public var findings: [Finding] = []
    /// The policy that decided the outcome (tolerances and fail-on list), with the layers it came from.
    public var policy: Policy = .default
    /// Which fail-on checks found something, and whether the gate failed.
    public var gate = Gate(mode: .policy, failed: false, triggered: [])
    /// The comparison with a baseline (`--baseline`), when one was given.
    public var baseline: BaselineOutcome?
    /// Each side's EMA copy, what one side lacks, EMA against EMA, and the live-or-EMA answer.
    public var ema = EMASection()

    enum CodingKeys: String, CodingKey {
        case ckdiffReportVersion = "ckdiff_report_version"
        case tool, inputs, tolerance, summary, components, tensors
        case onlyInA = "only_in_a"
        case onlyInB = "only_in_b"
        case renamed, findings, ema, policy, gate, baseline
    }

    /// The program that wrote the report.
    public struct Tool: Sendable, Codable {
        public var name: String
        public var version: String
    }

    /// The two checkpoints.
    public struct Inputs: Sendable, Codable {
        public var a: Input
        public var b: Input
    }

    /// One checkpoint as ckdiff read it.
    public struct Input: Sendable, Codable {
        public var path: String
        public var storage: String
        public var layout: String
        public var architecture: String
        public var variant: String?
        public var files: Int
        public var tensors: Int
    }

    /// The tolerance rule in force.
    public struct ToleranceSetting: Sendable, Codable {
        /// How tolerances are chosen, written as `per_dtype` or `fixed`.
        public enum Mode: String, Sendable, Codable {
            /// torch.testing defaults by the pair's looser dtype (or the policy's table and overrides).
            case perDType = "per_dtype"
            /// One tolerance for every floating-point pair.
            case fixed
        }

        public var mode: Mode
        public var atol: Double?
        public var rtol: Double?

        /// The setting a policy states: its fixed tolerance, else per dtype.
        init(_ policy: Policy) {
            if let fixed = policy.tolerance {
                self.init(mode: .fixed, atol: fixed.atol, rtol: fixed.rtol)
            } else {
                self.init(mode: .perDType, atol: nil, rtol: nil)
            }
        }

        init(mode: Mode, atol: Double?, rtol: Double?) {
            self.mode = mode
            self.atol = atol
            self.rtol = rtol
        }
    }

    /// The verdict on the whole comparison, written as `equivalent` or `different`.
    public enum Outcome: String, Sendable, Codable {
        /// No fail-on check found anything.
        case equivalent
        /// Some fail-on check found something.
        case different
    }

    /// Counts over the whole comparison and the outcome.
    public struct Summary: Sendable, Codable {
        /// The gate's verdict.
        public var verdict: Outcome
        /// 0 equivalent, 1 different (2 is never written: trouble produces no report).
        public var exitCode: Int
        public var tensorsAligned: Int
        public var tensorsIdentical: Int
        public var tensorsWithinTolerance: Int
        public var tensorsOutOfTolerance: Int
        public var tensorsNonfinite: Int
        public var tensorsShapeMismatch: Int
        public var tensorsNotCompared: Int
        public var tensorsDTypeMismatch: Int
        public var onlyInA: Int
        public var onlyInB: Int
        /// Leftovers that count as differences (real weights or unknown keys).
        public var onlyInAWeights: Int
        public var onlyInBWeights: Int
        public var parametersCompared: Int
        public var bytesCompared: Int
        /// Leftovers of B matched by content to leftovers of A (`renamed`).
        public var renamed: Int = 0
        /// Pairs by diagnosed verdict (only verdicts that occur).
        public var verdicts: [String: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case verdict
            case exitCode = "exit_code"
            case tensorsAligned = "tensors_aligned"
            case tensorsIdentical = "tensors_identical"
            case tensorsWithinTolerance = "tensors_within_tolerance"
            case tensorsOutOfTolerance = "tensors_out_of_tolerance"
            case tensorsNonfinite = "tensors_nonfinite"
            case tensorsShapeMismatch = "tensors_shape_mismatch"
            case tensorsNotCompared = "tensors_not_compared"
            case tensorsDTypeMismatch = "tensors_dtype_mismatch"
            case onlyInA = "only_in_a"
            case onlyInB = "only_in_b"
            case onlyInAWeights = "only_in_a_weights"
            case onlyInBWeights = "only_in_b_weights"
            case parametersCompared = "parameters_compared"
            case bytesCompared = "bytes_compared"
            case renamed, verdicts
        }
    }

    /// How much of one component the alignment covers, on each side.
    ///
    /// A tensor counts once per side even when several pairs read parts of it (the
    /// q, k and v rows of a fused attention tensor). `aligned_share_a` is the share of
    /// A's parameters in the component that some pair reads; likewise for B.
    public struct ComponentCoverage: Sendable, Codable {
        public var component: Component
        public var aTensors: Int
        public var aParameters: Int
        public var bTensors: Int
        public var bParameters: Int
        public var pairs: Int
        public var onlyInA: Int
        public var onlyInAParameters: Int
        public var onlyInB: Int
        public var onlyInBParameters: Int
        public var alignedShareA: Double
        public var alignedShareB: Double

        enum CodingKeys: String, CodingKey {
            case component
            case aTensors = "a_tensors"
            case aParameters = "a_parameters"
            case bTensors = "b_tensors"
            case bParameters = "b_parameters"
            case pairs
            case onlyInA = "only_in_a"
            case onlyInAParameters = "only_in_a_parameters"
            case onlyInB = "only_in_b"
            case onlyInBParameters = "only_in_b_parameters"
            case alignedShareA = "aligned_share_a"
            case alignedShareB = "aligned_share_b"
        }
    }

    /// One aligned pair.
    public struct TensorEntry: Sendable, Codable {
        public var name: String
        public var aName: String
        public var bName: String
        public var component: Component
        public var transform: PairTransform
        public var aDType: DType
        public var bDType: DType
        public var aShape: [Int]
        public var bShape: [Int]
        public var numel: Int
        public var identical: Bool
        public var verdict: Verdict
        public var dtypeClassChange: Bool
        public var atol: Double?
        public var rtol: Double?
        /// The policy rule that chose `atol`/`rtol` (`dtype:F16`, `fixed`, `component:vae`, `key:GLOB`).
        public var toleranceRule: String?
        public var maxAbs: ReportNumber?
        public var maxAbsIndex: Int?
        public var meanAbs: ReportNumber?
        public var rmse: ReportNumber?
        public var relL2: ReportNumber?
        public var cosine: ReportNumber?
        public var mismatched: Int?
        public var aNaN: Int?
        public var aInf: Int?
        public var bNaN: Int?
        public var bInf: Int?
        public var newNonfinite: Int?
        public var underflowToZero: Int?
        /// Elements of A beyond the F16 range; present only when B is F16.
        public var aBeyondF16: Int?
        /// |b − a| histogram: bucket label → count (labels in `TensorComparison.histogramBuckets`).
        public var histogram: [String: Int]?
        public var note: String?
        /// What diagnosis checked and found, one line.
        public var evidence: String?
        /// For `scaled`: c in B ≈ c·A.
        public var scale: ReportNumber?
        /// For `permuted`: B's row block j holds A's block `permutation[j]`.
        public var permutation: [Int]?
        /// For `swapped`: the A tensor whose values B holds.
        public var holds: String?
        /// A harmless known convention that explains the difference (the pair is then no difference).
        public var convention: String?
        /// Exact-cast evidence (see `TensorComparison.castTarget`), present when the check ran.
        public var castTarget: String?
        public var castExact: Int?
        public var castOverflow: Int?
        public var castFlushed: Int?
        public var castNaN: Int?
        public var castMismatch: Int?
        public var reverseCastMismatch: Int?

        enum CodingKeys: String, CodingKey {
            case name
            case aName = "a_name"
            case bName = "b_name"
            case component, transform
            case aDType = "a_dtype"
            case bDType = "b_dtype"
            case aShape = "a_shape"
            case bShape = "b_shape"
            case numel, identical, verdict
            case dtypeClassChange = "dtype_class_change"
            case atol, rtol
            case toleranceRule = "tolerance_rule"
            case maxAbs = "max_abs"
            case maxAbsIndex = "max_abs_index"
            case meanAbs = "mean_abs"
            case rmse
            case relL2 = "rel_l2"
            case cosine, mismatched
            case aNaN = "a_nan"
            case aInf = "a_inf"
            case bNaN = "b_nan"
            case bInf = "b_inf"
            case newNonfinite = "new_nonfinite"
            case underflowToZero = "underflow_to_zero"
            case aBeyondF16 = "a_beyond_f16"
            case histogram, note, evidence, scale, permutation, holds, convention
            case castTarget = "cast_target"
            case castExact = "cast_exact"
            case castOverflow = "cast_overflow"
            case castFlushed = "cast_flushed"
            case castNaN = "cast_nan"
            case castMismatch = "cast_mismatch"
            case reverseCastMismatch = "reverse_cast_mismatch"
        }
    }

    /// A tensor of B that holds a tensor of A under a name no mapping rule pairs.
    public struct RenamedEntry: Sendable, Codable {
        public var aName: String
        public var bName: String
        public var component: Component
        public var aDType: DType
        public var bDType: DType
        public var aShape: [Int]
        public var bShape: [Int]
        public var numel: Int
        /// How the values compare (`identical`, `exact_cast`, `within_tolerance`, `reshaped`, …).
        public var verdict: Verdict
        public var evidence: String

        enum CodingKeys: String, CodingKey {
            case aName = "a_name"
            case bName = "b_name"
            case component
            case aDType = "a_dtype"
            case bDType = "b_dtype"
            case aShape = "a_shape"
            case bShape = "b_shape"
            case numel, verdict, evidence
        }
    }

    /// A tensor present on one side only.
    public struct LeftoverEntry: Sendable, Codable {
        public var name: String
        public var component: Component
        /// What it is (weight, ema, schedule_buffer, marker, layout_only, placeholder, optional, unknown, set_aside).
        public var `class`: LeftoverClass
        public var dtype: DType
        public var shape: [Int]
        public var numel: Int
    }
}

/// A number that may be NaN or infinite, written to JSON as a number or as "nan", "inf", "-inf".
public struct ReportNumber: Sendable, Codable, Equatable {
    public var value: Double

    public init(_ value: Double) {
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "nan": value = .nan
        case "inf": value = .infinity
        case "-inf": value = -.infinity
        case let other:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isNaN {
            try container.encode("nan")
        } else if value.isInfinite {
            try container.encode(value > 0 ? "inf" : "-inf")
        } else {
            try container.encode(value)
        }
    }
}
