import CKDiffCLI
import Foundation

/// Runs `ckdiff` as a user would: in process through the CKDiffCLI library (the default), or as the
/// built executable (``runBinary(_:environment:)``, for the end-to-end tests).
enum CLIRunner {
    /// What one run produced.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutData: Data
    }

    /// Runs the command line `arguments` in this process, with the given extra environment.
    ///
    /// The command sees this process's environment plus `environment`, writes to in-memory
    /// streams that are not terminals (as the binary's output redirected to files), and returns
    /// the exit status the executable would exit with.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let console = Console.capturing(environment: env)
        let status = CKDiffCLI.run(arguments, console: console)
        let outData = console.standardOutput, errData = console.standardError
        return Outcome(status: status, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// The built binary: next to the test bundle in `.build/<triple>/<configuration>/`.
    static var binary: URL {
        get throws {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("ckdiff")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder.deleteLastPathComponent()
            }
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "built ckdiff not found near \(CommandLine.arguments[0])"])
        }
    }

    /// Runs the built `ckdiff` executable with `arguments` and the given extra environment, waiting for it to end.
    static func runBinary(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = try binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // Output goes to files, so a large report can never fill a pipe and stall the process.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckdiff-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Outcome(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }
}
