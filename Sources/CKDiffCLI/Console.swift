import Foundation
import Reporting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command's output goes and what it sees of the process around it.
///
/// The executable uses ``process(environment:)``: file descriptors 1 and 2 and the process
/// environment. In-process tests use ``capturing(environment:)``: both streams are collected in
/// memory and nothing is a terminal, as when the binary's output is redirected to files. Commands
/// never touch `FileHandle.standardOutput`, `print` or `ProcessInfo` directly, so many commands can
/// run at once in one process.
public final class Console: @unchecked Sendable {
    /// One output stream: a file descriptor, or a buffer filled under a lock.
    private enum Sink {
        case descriptor(Int32)
        case buffer
    }

    /// Why standard output could not be written (a full disk, a closed pipe).
    public struct WriteFailure: Error, CustomStringConvertible {
        /// The stream and the system's reason.
        public var description: String
    }

    /// The environment the command sees (`NO_COLOR`, `GITHUB_STEP_SUMMARY`, …).
    public let environment: [String: String]
    /// Whether standard output is a terminal (colour in `auto` mode).
    public let outputIsTerminal: Bool
    /// Whether standard error is a terminal (the progress bar).
    public let errorIsTerminal: Bool

    private let output: Sink
    private let error: Sink
    private let lock = NSLock()
    private var outputData = Data()
    private var errorData = Data()

    private init(environment: [String: String], output: Sink, error: Sink, outputIsTerminal: Bool, errorIsTerminal: Bool) {
        self.environment = environment
        self.output = output
        self.error = error
        self.outputIsTerminal = outputIsTerminal
        self.errorIsTerminal = errorIsTerminal
    }

    /// The process's own standard output and error, and its environment.
    public static func process(environment: [String: String] = ProcessInfo.processInfo.environment) -> Console {
        Console(environment: environment, output: .descriptor(1), error: .descriptor(2),
                outputIsTerminal: isatty(1) == 1, errorIsTerminal: isatty(2) == 1)
    }

    /// A console whose streams are collected in memory (read them with ``standardOutput`` and ``standardError``).
    public static func capturing(environment: [String: String]) -> Console {
        Console(environment: environment, output: .buffer, error: .buffer, outputIsTerminal: false, errorIsTerminal: false)
    }

    /// What was written to standard output, for a capturing console.
    public var standardOutput: Data {
        lock.lock()
        defer { lock.unlock() }
        return outputData
    }

    /// What was written to standard error, for a capturing console.
    public var standardError: Data {
        lock.lock()
        defer { lock.unlock() }
        return errorData
    }

    /// Writes `data` to standard output.
    ///
    /// - Throws: ``WriteFailure`` when the stream refuses it (`/dev/full`, a closed pipe).
    public func write(_ data: Data) throws(WriteFailure) {
        switch output {
        case .buffer:
            lock.lock()
            outputData.append(data)
            lock.unlock()
        case .descriptor(let fd):
            if let reason = writeAll(data, to: fd) {
                throw WriteFailure(description: "standard output: \(reason)")
            }
        }
    }

    /// Writes `text` to standard output.
    public func write(_ text: String) throws(WriteFailure) {
        try write(Data(text.utf8))
    }

    /// Writes `text` to standard error, ending it with a newline; a failure to write is ignored (there is nowhere left to say it).
    public func printError(_ text: String) {
        writeError(text.hasSuffix("\n") ? text : text + "\n")
    }

    /// Writes `text` to standard error as it is (progress lines); failures are ignored.
    public func writeError(_ text: String) {
        let data = Data(text.utf8)
        switch error {
        case .buffer:
            lock.lock()
            errorData.append(data)
            lock.unlock()
        case .descriptor(let fd):
            _ = writeAll(data, to: fd)
        }
    }
}
