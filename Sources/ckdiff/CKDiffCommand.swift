import ArgumentParser

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
        subcommands: [Compare.self, Inspect.self],
        defaultSubcommand: Compare.self)
}
