import Foundation
import Safetensors

/// One category of `ckdiff inspect --fail-on`: a health problem of a single checkpoint that fails its gate.
///
/// Each category is one health finding kind (``InspectReport/healthFindings(mixes:scan:tensorParameters:)``)
/// or the EMA status; `nonfinite` and `f16-overflow` need the values, so asking for them turns `--scan` on.
public enum InspectFailOn: String, Sendable, CaseIterable, Codable {
    /// NaN or ±Inf values (finding `nonfinite`; reads every tensor).
    case nonfinite
    /// Finite values beyond F16's range in tensors not stored as F16 (finding `f16_overflow_risk`; reads every tensor).
    case f16Overflow = "f16-overflow"
    /// A component whose floating-point tensors do not share one dtype (finding `mixed_dtypes`).
    case dtypeMix = "dtype-mix"
    /// Fewer EMA tensors than denoiser tensors (EMA status `partial`).
    case emaPartial = "ema-partial"

    /// The health finding kind this category fails on, or nil for `ema-partial`.
    public var findingKind: String? {
        switch self {
        case .nonfinite: return "nonfinite"
        case .f16Overflow: return "f16_overflow_risk"
        case .dtypeMix: return "mixed_dtypes"
        case .emaPartial: return nil
        }
    }

    /// Whether the category needs every tensor read (`--scan`).
    public var needsScan: Bool { self == .nonfinite || self == .f16Overflow }

    /// `default`: the categories of the health problems that break a load: `nonfinite`, `dtype-mix`, `ema-partial`.
    public static let defaults: [InspectFailOn] = [.nonfinite, .dtypeMix, .emaPartial]

    /// Parses comma-separated lists (repeatable); `default` stands for ``defaults``.
    ///
    /// - Returns: The categories in order without repeats, or the first entry that names none.
    public static func parse(_ values: [String]) -> Result<[InspectFailOn], UnknownEntry> {
        var out: [InspectFailOn] = []
        for entry in values.flatMap({ $0.split(separator: ",") }) {
            let name = entry.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            let items: [InspectFailOn]
            if name == "default" {
                items = defaults
            } else if let category = InspectFailOn(rawValue: name) {
                items = [category]
            } else {
                return .failure(UnknownEntry(entry: name))
            }
            for item in items where !out.contains(item) { out.append(item) }
        }
        return .success(out)
    }

    /// An entry that names no inspect category.
    public struct UnknownEntry: Error, Sendable, CustomStringConvertible {
        public var entry: String
        public var description: String {
            "unknown inspect fail-on category '\(Printable.line(entry))' (use \(InspectFailOn.allCases.map(\.rawValue).joined(separator: ", ")), or default)"
        }
    }
}
