import Comparison
import Foundation

/// One entry of a policy's fail-on list: a category of difference that fails the gate.
///
/// Named categories (`missing`, `extra`, `dtype`, `shape`, `nonfinite`, `transposed`,
/// `ema-missing`, `tolerance`), a coverage floor (`coverage<99.5`), or any verdict name
/// (`Verdict.allCases`: `out_of_tolerance`, `not_compared`, and whatever verdicts diagnosis adds).
/// A name that is both a category and a verdict (`nonfinite`, `transposed`) means the category,
/// which includes the verdict. A pair that a known harmless convention explains (its `convention` is
/// set) counts for no category but `dtype`.
public enum FailOnCategory: Sendable, Hashable, CustomStringConvertible {
    /// A model weight (or an unknown key) of A that B lacks: leftovers of class `weight` or `unknown` in `only_in_a`.
    case missing
    /// A model weight (or an unknown key) of B that A lacks.
    case extra
    /// An aligned pair whose dtypes differ (a cast).
    case dtype
    /// A pair whose shapes cannot be lined up (verdict `shape_mismatch`).
    case shape
    /// A pair with values finite in A and NaN or infinite in B (`new_nonfinite` > 0).
    case nonfinite
    /// A pair whose verdict is `transposed`.
    case transposed
    /// An EMA weight tensor of one side with no counterpart on the other (a missing or partial EMA copy;
    /// the `decay`/`num_updates` settings do not count).
    case emaMissing
    /// A tensor of B found to hold a tensor of A under another name (`renamed`).
    case renamed
    /// A component whose aligned share of parameters, on the side that covers less, is below the percentage.
    case coverageBelow(Double)
    /// A pair with elements outside its tolerance (`mismatched` > 0), whatever its verdict (an exact cast
    /// under a tighter fixed tolerance, say).
    case tolerance
    /// A pair with this verdict.
    case verdict(String)

    /// The names accepted besides verdicts and `coverage<PERCENT`.
    public static let namedCategories = ["missing", "extra", "dtype", "shape", "nonfinite", "transposed",
                                         "ema-missing", "renamed", "tolerance"]

    /// Parses one entry; nil when it is neither a category nor a known verdict.
    public init?(_ text: String) {
        let name = text.trimmingCharacters(in: .whitespaces)
        switch name {
        case "missing": self = .missing
        case "extra": self = .extra
        case "dtype": self = .dtype
        case "shape": self = .shape
        case "nonfinite": self = .nonfinite
        case "transposed": self = .transposed
        case "ema-missing": self = .emaMissing
        case "renamed": self = .renamed
        case "tolerance": self = .tolerance
        default:
            if name.hasPrefix("coverage<") {
                let number = name.dropFirst("coverage<".count).replacingOccurrences(of: "%", with: "")
                guard let percent = Double(number), percent.isFinite, percent >= 0, percent <= 100 else { return nil }
                self = .coverageBelow(percent)
            } else if Verdict(rawValue: name) != nil {
                self = .verdict(name)
            } else {
                return nil
            }
        }
    }

    /// The entry as written in a policy.
    public var name: String {
        switch self {
        case .missing: return "missing"
        case .extra: return "extra"
        case .dtype: return "dtype"
        case .shape: return "shape"
        case .nonfinite: return "nonfinite"
        case .transposed: return "transposed"
        case .emaMissing: return "ema-missing"
        case .renamed: return "renamed"
        case .coverageBelow(let percent): return "coverage<\(formatPercent(percent))"
        case .tolerance: return "tolerance"
        case .verdict(let name): return name
        }
    }

    public var description: String { name }

    /// Every accepted spelling, for error messages.
    public static var accepted: String {
        (namedCategories + ["coverage<PERCENT"] + Verdict.allCases.map(\.rawValue)
            .filter { !namedCategories.contains($0) }).joined(separator: ", ")
    }

    /// Expands a fail-on list: comma-separated entries, `default` standing for ``Policy/defaultFailOn``.
    ///
    /// - Returns: The entries in order, without repeats, or the first entry that is not valid.
    public static func expand(_ entries: [String]) -> Result<[String], UnknownCategory> {
        var out: [String] = []
        for entry in entries.flatMap({ $0.split(separator: ",").map(String.init) }) {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let items = trimmed == "default" ? Policy.defaultFailOn : [trimmed]
            for item in items {
                guard let category = FailOnCategory(item) else { return .failure(UnknownCategory(entry: trimmed)) }
                if !out.contains(category.name) { out.append(category.name) }
            }
        }
        return .success(out)
    }

    /// A fail-on entry that names no category.
    public struct UnknownCategory: Error, Sendable, CustomStringConvertible {
        public var entry: String
        public var description: String {
            "unknown fail-on category '\(entry)' (use \(FailOnCategory.accepted), or default)"
        }
    }
}

/// A percentage without a trailing `.0`.
func formatPercent(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
