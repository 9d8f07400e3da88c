@testable import CKDiffCLI
import Testing

/// Argument mistakes are one line on standard error and exit 2, with the way out in the line.
@Suite("ckdiff argument errors: one line, exit 2, a hint; the command line in process")
struct ArgumentErrorsCLITests {
    @Test("each mistake is one line naming what is wrong", arguments: [
        ([], "no checkpoints given"),
        (["inspec", "x"], "did you mean 'inspect'?"),
        (["bacth", "m.json"], "did you mean 'batch'?"),
        (["help", "nonsense"], "no such command 'nonsense'"),
        (["compare", "/nonexistent/a.safetensors"], "Missing expected argument '<b>'"),
        (["compare", "a", "b", "--top", "many"], "invalid for '--top <top>'"),
    ] as [([String], String)])
    func oneLine(arguments: [String], expected: String) throws {
        let outcome = try CLIRunner.run(arguments)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("ckdiff: error: ") && outcome.stderr.contains(expected), "\(outcome.stderr)")
    }

    @Test("--version names the program; help of a real command is help, exit 0")
    func versionAndHelp() throws {
        let version = try CLIRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("ckdiff "))
        let help = try CLIRunner.run(["help", "inspect"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("inspect"))
    }

    @Test("the command-name guess never takes a file that exists")
    func existingFileIsNotACommand() {
        #expect(ArgumentMistake.find(in: ["inspec", "x"], fileExists: { $0 == "inspec" }) == nil)
        #expect(ArgumentMistake.find(in: ["inspec", "x"], fileExists: { _ in false }) != nil)
        #expect(ArgumentMistake.editDistance("inspec", "inspect") == 1)
        #expect(ArgumentMistake.editDistance("kitten", "sitting") == 3)
    }
}
