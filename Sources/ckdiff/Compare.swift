import ArgumentParser

/// `ckdiff compare A B` (the default subcommand).
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare checkpoint B against reference A (the default).")

    @Argument(help: "The reference checkpoint A.")
    var a: String

    @Argument(help: "The checkpoint B to compare with A.")
    var b: String

    func run() throws {
        throw ExitStatus.trouble
    }
}
