import ArgumentParser

/// `ckdiff inspect PATH`: what a checkpoint file or folder is.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe one checkpoint: layout, architecture, components, dtypes, metadata.")

    @Argument(help: "A .safetensors file, a diffusers folder or a component folder.")
    var path: String

    func run() throws {
        throw ExitStatus.trouble
    }
}
