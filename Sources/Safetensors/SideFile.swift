/// A small input read whole: a policy, baseline, batch manifest, saved report, or a checkpoint's
/// config or index JSON.
///
/// Every such file goes through ``read(_:limit:what:)``: it is opened without blocking and
/// refused unless it is a regular file (a FIFO, a device or a directory is named as such, never
/// waited on), and refused before any byte is read when it is larger than its limit, so a
/// multi-gigabyte file given as a policy costs a `stat`, not gigabytes of memory.
package enum SideFile {
    /// The largest policy file or batch manifest: 1 MiB (real ones are a few hundred bytes).
    package static let settingsLimit: Int64 = 1 << 20

    /// The largest baseline or saved report: 32 MiB (an SDXL baseline is about 0.4 MB, a report
    /// with every pair listed about 1 MB).
    package static let reportLimit: Int64 = 32 << 20

    /// Why a side file was refused; the description is one line that names the file.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given.
        package var path: String
        /// What is wrong ("is a FIFO (named pipe), not a regular file", …).
        package var reason: String

        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        package var description: String { Printable.line("\(path): \(reason)") }
    }

    /// Reads the regular file at `path` whole, refusing anything else and anything over `limit` bytes.
    ///
    /// - Parameters:
    ///   - limit: The largest size accepted, in bytes.
    ///   - what: What the file is for, in the size message ("policy file", "baseline").
    package static func read(_ path: String, limit: Int64, what: String) throws(Failure) -> [UInt8] {
        let file: ReadOnlyFile
        do {
            file = try ReadOnlyFile(path: path)
        } catch {
            if case .io(let text) = error.kind { throw Failure(path: path, reason: text) }
            throw Failure(path: path, reason: error.description)
        }
        guard file.size <= limit else {
            throw Failure(path: path, reason: "is \(file.size) bytes, above the \(limit)-byte limit for a \(what)")
        }
        do {
            return try file.readBytes(count: Int(file.size), at: 0)
        } catch {
            if case .io(let text) = error.kind { throw Failure(path: path, reason: text) }
            throw Failure(path: path, reason: error.description)
        }
    }
}
