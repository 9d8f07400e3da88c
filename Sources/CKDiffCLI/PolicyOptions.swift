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
            help: ArgumentHelp("Categories that fail the gate, comma-separated (repeatable): missing, extra, dtype, shape, nonfinite, transposed, ema-missing, coverage<PERCENT, tolerance, a verdict name, or default.", valueName: "LIST"))
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
            switch FailOnCategory.expand(failOn) {
            case .success(let list) where list.isEmpty:
                // An unset variable (`--fail-on "$FAIL_ON"`) or a typo must not switch the gate off.
                throw PolicyError("--fail-on names no category (\(failOn.map { "'\($0)'" }.joined(separator: " "))): give at least one, e.g. default")
            case .success(let list): layer.failOn = list
            case .failure(let unknown): throw PolicyError("--fail-on: \(unknown)")
            }
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
