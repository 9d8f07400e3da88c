import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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
    ///   - path: The destination file.
    ///   - inputs: The inputs being read; writing over one of them, into an input folder, or over
    ///     another name of an input file (same device and inode) is refused.
    public static func write(_ data: Data, to path: String, protecting inputs: ProtectedInputs) throws(Failure) {
        if let clash = inputs.clash(with: path) {
            throw Failure(description: "\(path): refusing to write a report over \(clash)")
        }
        let destination = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var status = stat()
        let exists = stat(destination.path, &status) == 0
        if exists && (status.st_mode & S_IFMT) != S_IFREG {
            // A device or pipe (/dev/null, a FIFO): write straight to it, there is nothing to replace.
            // Opened without blocking, so a FIFO nobody reads is refused instead of hanging.
            try writeDirectly(data, to: destination.path, shownAs: path)
            return
        }
        let folder = destination.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).ckdiff-\(UUID().uuidString).tmp")
        TemporaryFiles.shared.add(temporary.path)
        defer { TemporaryFiles.shared.remove(temporary.path) }
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

    /// Writes `data` to a device or FIFO at `path` with calls that report their errors.
    private static func writeDirectly(_ data: Data, to path: String, shownAs name: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENXIO ? "a FIFO with no reader" : String(cString: strerror(errno))
            throw Failure(description: "\(name): cannot open for writing: \(reason)")
        }
        defer { close(fd) }
        // Back to blocking writes once open: a reader is there, so it will drain what we write.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        let failure = writeAll(data, to: fd)
        if let failure { throw Failure(description: "\(name): cannot write the report: \(failure)") }
    }

    /// Appends `data` to `path` (creating it), as GitHub's `$GITHUB_STEP_SUMMARY` expects; refuses inputs as `write` does.
    public static func append(_ data: Data, to path: String, protecting inputs: ProtectedInputs) throws(Failure) {
        if let clash = inputs.clash(with: path) {
            throw Failure(description: "\(path): refusing to write a report over \(clash)")
        }
        let destination = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var status = stat()
        if stat(destination.path, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG {
            try writeDirectly(data, to: destination.path, shownAs: path)
            return
        }
        let fd = open(destination.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard fd >= 0 else {
            throw Failure(description: "\(path): cannot open for appending: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw Failure(description: "\(path): cannot append the report: \(error.localizedDescription)")
        }
    }
}
