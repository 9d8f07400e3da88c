import ArgumentParser
import Foundation

/// Exit statuses, as diff(1) uses them.
enum ExitStatus {
    /// Equivalent within the policy.
    static let same = ExitCode(0)
    /// Differences found (a fail-on check, or a regression against a baseline).
    static let different = ExitCode(1)
    /// Trouble: unreadable input, bad arguments, failed output.
    static let trouble = ExitCode(2)
}

/// Writes `text` to standard error, ending it with a newline.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Runs a command body; any error becomes one line on stderr and exit status 2.
///
/// The body returns the exit status (0 or 1); whatever it throws is trouble. Line
/// breaks inside an error's text are flattened so the message stays one line.
func runReportingTrouble(_ body: () throws -> ExitCode) throws -> Never {
    let status: ExitCode
    do {
        status = try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("ckdiff: error: \(oneLine(error))")
        throw ExitStatus.trouble
    }
    throw status
}

/// An error's text on one line (line breaks flattened).
func oneLine(_ error: any Error) -> String {
    "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
}
