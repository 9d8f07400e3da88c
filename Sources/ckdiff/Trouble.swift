import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exit statuses, as diff(1) uses them.
enum ExitStatus {
    /// Equivalent within the policy.
    static let same = ExitCode(0)
    /// Differences found.
    static let different = ExitCode(1)
    /// Trouble: unreadable input, bad arguments, failed output.
    static let trouble = ExitCode(2)
}

/// Writes one line to standard error.
func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    var bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + written, $0.count - written) }
        if n <= 0 { break }
        written += n
    }
}

/// Runs a command body; any error becomes one line on stderr and exit status 2.
///
/// Argument errors keep ArgumentParser's own handling (usage text), but with
/// status 2 rather than 64, because diff(1) reserves 2 for all trouble.
func runReportingTrouble(_ body: () throws -> ExitCode) throws -> Never {
    let status: ExitCode
    do {
        status = try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("ckdiff: error: \(error)")
        throw ExitStatus.trouble
    }
    throw status
}
