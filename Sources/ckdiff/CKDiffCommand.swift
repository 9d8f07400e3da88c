import ArgumentParser
import Comparison

/// The `ckdiff` command: `ckdiff A B` is `ckdiff compare A B`.
@main
struct CKDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckdiff",
        abstract: "Tell whether two diffusion-model checkpoints hold the same model, tensor by tensor.",
        discussion: """
            Exit status follows diff(1): 0 equivalent within the policy, 1 differences found, \
            2 trouble (unreadable input, bad arguments).
            """,
        version: "0.1.0",
        subcommands: [Compare.self, Inspect.self, Map.self, Batch.self, PolicyCommand.self, Show.self],
        defaultSubcommand: Compare.self)

    /// Runs the command; usage errors exit with 2 (diff's "trouble"), not ArgumentParser's 64.
    static func main() {
        BLASThreads.quiet()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitStatus.trouble)
            }
            exit(withError: error)
        }
    }
}
