import ArgumentParser
import Comparison
import Reporting

/// The `ckdiff` command: `ckdiff A B` is `ckdiff compare A B`.
struct CKDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckdiff",
        abstract: "Tell whether two diffusion-model checkpoints hold the same model, tensor by tensor.",
        discussion: """
            Exit status follows diff(1): 0 equivalent within the policy, 1 differences found, \
            2 trouble (unreadable input, bad arguments).
            """,
        version: "ckdiff \(ComparisonReport.toolVersion)",
        subcommands: [Compare.self, Inspect.self, Map.self, Batch.self, PolicyCommand.self, Show.self],
        defaultSubcommand: Compare.self)
}

/// The command line as a library call: the executable is `exit(CKDiffCLI.run(arguments, console: .process()))`.
public enum CKDiffCLI {
    /// Parses `arguments` (without the program name), runs the command and returns its exit status.
    ///
    /// Usage errors are one message on standard error and status 2 (diff's "trouble"), not
    /// ArgumentParser's 64; help and `--version` go to standard output with status 0.
    public static func run(_ given: [String], console: Console) -> Int32 {
        let arguments = JSONFlagSpelling.normalised(given)
        BLASThreads.quiet()
        do {
            // CKDIFF_SIMD=avx512|avx2|neon|scalar forces a kernel level; one the CPU lacks is trouble.
            try KernelLevel.applyEnvironment(console.environment)
        } catch {
            console.printError("ckdiff: error: \(error)")
            return ExitStatus.trouble.rawValue
        }
        if let mistake = ArgumentMistake.find(in: arguments) {
            console.printError("ckdiff: error: \(mistake)")
            return ExitStatus.trouble.rawValue
        }
        let parsed: ParsableCommand
        do {
            parsed = try CKDiffCommand.parseAsRoot(arguments)
        } catch {
            return finish(error, console: console)
        }
        guard let command = parsed as? ConsoleCommand else {
            // Built-in commands (`help`): they only throw their message.
            do {
                var builtIn = parsed
                try builtIn.run()
                return 0
            } catch {
                return finish(error, console: console)
            }
        }
        do {
            return try command.execute(in: console).rawValue
        } catch let status as ExitCode {
            return status.rawValue
        } catch {
            let line = oneLine(error)
            command.reportTrouble(line, in: console)
            console.printError("ckdiff: error: \(line)")
            return ExitStatus.trouble.rawValue
        }
    }

    /// ArgumentParser's message for `error` on the right stream, and the exit status (2 for usage errors).
    private static func finish(_ error: any Error, console: Console) -> Int32 {
        let status = CKDiffCommand.exitCode(for: error)
        let message = CKDiffCommand.fullMessage(for: error)
        if status == .validationFailure {
            // One line: what is wrong and where to read more (ArgumentParser's own text adds the usage).
            let brief = CKDiffCommand.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            console.printError("ckdiff: error: \(brief) (see 'ckdiff --help')")
            return ExitStatus.trouble.rawValue
        }
        if !message.isEmpty {
            if status == .success {
                do {
                    try console.write(message + "\n")
                } catch {
                    console.printError("ckdiff: error: \(error)")
                    return ExitStatus.trouble.rawValue
                }
            } else {
                console.printError(message)
            }
        }
        return status.rawValue
    }
}
