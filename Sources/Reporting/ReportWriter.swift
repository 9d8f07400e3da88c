import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes report files so that a crash never leaves half a report, and never over an input.
public enum ReportWriter {
    /// Why a report could not be written.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Writes `data` to `path` through a temporary file in the same folder and a rename.
    ///
    /// - Parameters:
    ///   - path: The destination; `-` writes to standard output instead.
    ///   - inputs: Paths of the checkpoints being read; writing over one of them (or into a
    ///     checkpoint folder's files) is refused.
    public static func write(_ data: Data, to path: String, protecting inputs: [String]) throws(Failure) {
        if path == "-" {
            FileHandle.standardOutput.write(data)
            return
        }
        let destination = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        for input in inputs {
            let protected = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
            if destination.path == protected.path || destination.path.hasPrefix(protected.path + "/") {
                throw Failure(description: "\(path): refusing to write a report over the input \(input)")
            }
        }
        var status = stat()
        let exists = stat(destination.path, &status) == 0
        if exists && (status.st_mode & S_IFMT) == S_IFREG {
            // Another name for an input file (a hard link, a bind mount) is the same file.
            for input in inputs {
                var inputStatus = stat()
                if stat(input, &inputStatus) == 0 && inputStatus.st_dev == status.st_dev && inputStatus.st_ino == status.st_ino {
                    throw Failure(description: "\(path): refusing to write a report over the input \(input) (the same file)")
                }
            }
        }
        if exists && (status.st_mode & S_IFMT) != S_IFREG {
            // A device or pipe (/dev/null, a FIFO): write straight to it, there is nothing to replace.
            guard let handle = FileHandle(forWritingAtPath: destination.path) else {
                throw Failure(description: "\(path): cannot open for writing")
            }
            handle.write(data)
            try? handle.close()
            return
        }
        let folder = destination.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).ckdiff-\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary, options: [.withoutOverwriting])
            guard rename(temporary.path, destination.path) == 0 else {
                throw Failure(description: "\(path): cannot write the report: \(String(cString: strerror(errno)))")
            }
        } catch let failure as Failure {
            try? FileManager.default.removeItem(at: temporary)
            throw failure
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw Failure(description: "\(path): cannot write the report: \(error.localizedDescription)")
        }
    }

    /// Appends `data` to `path` (creating it), as GitHub's `$GITHUB_STEP_SUMMARY` expects; refuses inputs as `write` does.
    public static func append(_ data: Data, to path: String, protecting inputs: [String]) throws(Failure) {
        let destination = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        for input in inputs {
            let protected = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
            if destination.path == protected.path || destination.path.hasPrefix(protected.path + "/") {
                throw Failure(description: "\(path): refusing to write a report over the input \(input)")
            }
        }
        if !FileManager.default.fileExists(atPath: destination.path) {
            _ = FileManager.default.createFile(atPath: destination.path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: destination.path) else {
            throw Failure(description: "\(path): cannot open for appending")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } catch {
            throw Failure(description: "\(path): cannot append the report: \(error.localizedDescription)")
        }
    }
}
