import Checkpoints
import Comparison
import Safetensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Policy {
    /// Which setting of the policy chose a pair's tolerance.
    public enum Rule: Sendable, Equatable, CustomStringConvertible {
        /// A key glob (the first that matches the report name, A's name or B's name).
        case key(String)
        /// The component's override.
        case component(String)
        /// The one tolerance for every floating-point pair (`--atol`/`--rtol`).
        case fixed
        /// The per-dtype table, at the pair's looser dtype.
        case dtype(String)

        /// `key:GLOB`, `component:NAME`, `fixed` or `dtype:NAME`, as reports write it.
        public var description: String {
            switch self {
            case .key(let glob): return "key:\(glob)"
            case .component(let name): return "component:\(name)"
            case .fixed: return "fixed"
            case .dtype(let name): return "dtype:\(name)"
            }
        }
    }

    /// The tolerance of a pair with a floating-point side and the rule that chose it, most specific first:
    /// the first key glob matching any of the pair's names, else the component's override, else the
    /// fixed tolerance, else the per-dtype table at the looser of the two dtypes (larger rtol, then
    /// larger atol; an integer side counts as exact, so a float side's entry wins). Nil when no rule
    /// applies (a dtype missing from the table): the engine then uses its own defaults.
    public func resolve(_ pair: ToleranceResolver.Pair) -> (tolerance: Tolerance, rule: Rule)? {
        for rule in keys where [pair.name, pair.aName, pair.bName].contains(where: { globMatches(rule.glob, $0) }) {
            return (rule.tolerance, .key(rule.glob))
        }
        if let tolerance = components[pair.component.rawValue] {
            return (tolerance, .component(pair.component.rawValue))
        }
        if let tolerance { return (tolerance, .fixed) }
        func entry(_ dtype: DType) -> (Tolerance, String)? {
            if dtype.kind == .integer || dtype.kind == .boolean { return (.exact, dtype.name) }
            return dtypes[dtype.name].map { ($0, dtype.name) }
        }
        guard let a = entry(pair.aDType), let b = entry(pair.bDType) else { return nil }
        let looser = (a.0.rtol, a.0.atol) >= (b.0.rtol, b.0.atol) ? a : b
        return (looser.0, .dtype(looser.1))
    }

    /// The resolver the comparison engine consults for each pair.
    public var toleranceResolver: ToleranceResolver {
        let policy = self
        return ToleranceResolver { pair in policy.resolve(pair)?.tolerance }
    }

    /// The parsed fail-on list (entries that do not parse, from a report of another version, are dropped).
    public var failOnCategories: [FailOnCategory] {
        failOn.compactMap(FailOnCategory.init)
    }
}

/// Whether `name` matches the `fnmatch(3)` pattern `glob`, without pathname or period rules
/// (`*` matches any run of characters, `/` and `.` included; `?` one character; `[…]` a set).
public func globMatches(_ glob: String, _ name: String) -> Bool {
    #if canImport(Glibc) || canImport(Darwin)
    return fnmatch(glob, name, 0) == 0
    #else
    #error("globMatches needs fnmatch(3): add this platform's C library")
    #endif
}
