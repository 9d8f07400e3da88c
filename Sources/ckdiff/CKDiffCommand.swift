import ArgumentParser

@main
struct CKDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ckdiff")
}
