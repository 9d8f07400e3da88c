import ArgumentParser
import Foundation
import Safetensors

/// Exit statuses, as diff(1) uses them.
enum ExitStatus {
    /// Equivalent within the policy.
    static let same = ExitCode(0)
    /// Differences found (a fail-on check, or a regression against a baseline).
    static let different = ExitCode(1)
    /// Trouble: unreadable input, bad arguments, failed output.
    static let trouble = ExitCode(2)
}

/// A subcommand that runs against a ``Console`` and returns its exit status.
///
/// Whatever ``execute(in:)`` throws is trouble: ``CKDiffCLI/run(_:console:)`` reports it as one
/// line on standard error (line breaks flattened) and exit status 2, after giving the command a
/// chance to record it in its CI outputs (``reportTrouble(_:in:)``).
protocol ConsoleCommand: ParsableCommand {
    /// Runs the command; returns 0 or 1 (or the status a saved report records).
    func execute(in console: Console) throws -> ExitCode
    /// Records trouble in the command's CI outputs (a JUnit error case, an annotation), best effort.
    func reportTrouble(_ message: String, in console: Console)
}

extension ConsoleCommand {
    func reportTrouble(_ message: String, in console: Console) {}
}

/// An error's text on one line (line breaks flattened), safe for a terminal.
///
/// Whatever the error echoes from an input (a tensor name, a dtype, a folder name) passes
/// through ``Printable/line(_:)`` as a last guard: control characters become `?` and the line
/// is cut at 8,192 characters.
func oneLine(_ error: any Error) -> String {
    Printable.line("\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
}
