import ArgumentParser
import Checkpoints
import Comparison
import Reporting

/// The policy options shared by `compare`, `batch` and `policy`: the command-line layer over a policy file.
struct PolicyOptions: ParsableArguments {
    @Option(name: .customLong("policy"), help: ArgumentHelp("Policy file (JSON, see docs/policy.md); the options below override it.", valueName: "FILE"))
    var policyFile: String?

    @Option(help: "Absolute tolerance for every float pair (give --rtol too).")
    var atol: Double?

    @Option(help: "Relative tolerance for every float pair (give --atol too).")
    var rtol: Double?

    @Option(name: .customLong("component-tolerance"), parsing: .singleValue,
            help: ArgumentHelp("Tolerance for one component: unet, vae, clip_l, open_clip, ema or other (repeatable).", valueName: "COMPONENT=ATOL,RTOL"))
    var componentTolerances: [String] = []

    @Option(name: .customLong("key-tolerance"), parsing: .singleValue,
            help: ArgumentHelp("Tolerance for the tensors whose report, A or B name matches a glob (repeatable; the first match wins).", valueName: "GLOB=ATOL,RTOL"))
    var keyTolerances: [String] = []

    @Option(name: .customLong("fail-on"), parsing: .singleValue,
            help: ArgumentHelp("Add categories that fail the gate to the defaults (or the policy file's list), comma-separated, repeatable: missing, extra, dtype, shape, nonfinite, transposed, ema-missing, renamed, coverage<PERCENT, tolerance, a verdict name, default. 'only:LIST' replaces the list instead (e.g. only:missing,dtype); '+X' is X.", valueName: "LIST"))
    var failOn: [String] = []

    func validate() throws {
        do {
            _ = try commandLineLayer()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The settings given on the command line, as a policy layer.
    func commandLineLayer() throws(PolicyError) -> PolicyLayer {
        var layer = PolicyLayer(source: "command line")
        if (atol == nil) != (rtol == nil) {
            throw PolicyError("--atol and --rtol go together: give both or neither")
        }
        if let atol, let rtol {
            layer.tolerance = try Policy.checked(atol: atol, rtol: rtol, "--atol/--rtol")
        }
        for entry in componentTolerances {
            let (name, tolerance) = try Self.assignment(entry, option: "--component-tolerance")
            guard Component(rawValue: name) != nil else {
                throw PolicyError("--component-tolerance: unknown component '\(name)' (use \(Component.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            layer.components[name] = tolerance
        }
        for entry in keyTolerances {
            let (glob, tolerance) = try Self.assignment(entry, option: "--key-tolerance")
            layer.keys.append(Policy.KeyRule(glob: glob, tolerance: tolerance))
        }
        if !failOn.isEmpty {
            let parsed = try Self.failOnOperations(failOn)
            layer.failOn = parsed.replacement
            layer.failOnAdded = parsed.added
        }
        return layer
    }

    /// The effective policy: the defaults, then `between` (a manifest's layers), then the file, then the command line.
    func policy(between: [PolicyLayer] = []) throws(PolicyError) -> Policy {
        var policy = Policy.default
        for layer in between { policy = policy.applying(layer) }
        if let policyFile { policy = policy.applying(try Policy.layer(fromFile: policyFile)) }
        return policy.applying(try commandLineLayer())
    }

    /// Reads the `--fail-on` values: entries add to the list in force; `only:LIST` replaces it.
    ///
    /// Each value is a comma-separated list; an entry may carry `+` (add, the same as no sign).
    /// A value starting with `only:` makes its list (and every later value's) the whole list.
    /// A value naming no category at all (`''`, `,,`, an unset variable) is refused: it must not
    /// switch the gate off or leave it unchanged by accident.
    static func failOnOperations(_ values: [String]) throws(PolicyError) -> (replacement: [String]?, added: [String]) {
        var replacement: [String]?
        var added: [String] = []
        for value in values {
            var text = value.trimmingCharacters(in: .whitespaces)
            let replaces = text.hasPrefix("only:")
            if replaces { text.removeFirst("only:".count) }
            let entries = text.split(separator: ",").map { entry -> String in
                let trimmed = entry.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed
            }
            let list: [String]
            switch FailOnCategory.expand(entries) {
            case .success(let expanded) where expanded.isEmpty:
                throw PolicyError("--fail-on names no category ('\(value)'): give at least one, e.g. default, or only:LIST to replace the list")
            case .success(let expanded): list = expanded
            case .failure(let unknown): throw PolicyError("--fail-on: \(unknown)")
            }
            if replaces {
                replacement = list
                added = []
            } else if replacement != nil {
                for entry in list where !(replacement ?? []).contains(entry) { replacement?.append(entry) }
            } else {
                for entry in list where !added.contains(entry) { added.append(entry) }
            }
        }
        return (replacement, added)
    }

    /// Splits `NAME=ATOL,RTOL` at its last `=`.
    static func assignment(_ text: String, option: String) throws(PolicyError) -> (String, Tolerance) {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex else {
            throw PolicyError("\(option) '\(text)': write NAME=ATOL,RTOL")
        }
        let name = String(text[..<equals])
        let numbers = text[text.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
        guard numbers.count == 2, let atol = Double(numbers[0]), let rtol = Double(numbers[1]) else {
            throw PolicyError("\(option) '\(text)': atol and rtol go together: write NAME=ATOL,RTOL")
        }
        return (name, try Policy.checked(atol: atol, rtol: rtol, "\(option) '\(text)'"))
    }
}
