import ArgumentParser
import Foundation
import Reporting

/// `ckdiff policy --print-default`, or the effective policy of a file and options.
struct PolicyCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Print the default policy, or the policy a file and options add up to, as JSON.",
        discussion: """
            Layers, each overriding the one below: the defaults, the policy file (--policy), the \
            command line. A pair's tolerance is chosen by the most specific rule: the first key glob \
            matching its report, A or B name, else its component's override, else the fixed tolerance \
            (--atol/--rtol), else the per-dtype table at the pair's looser dtype. See docs/policy.md.
            """)

    @Flag(name: .customLong("print-default"), help: "Print the default policy (a starting point for a policy file).")
    var printDefault = false

    @OptionGroup var policyOptions: PolicyOptions

    func execute(in console: Console) throws -> ExitCode {
        let policy = printDefault ? Policy.default : try policyOptions.policy()
        try console.writeReport(try policy.jsonData(), to: "-", protecting: [])
        return ExitStatus.same
    }
}
