import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files no report may be written over: every input path and every file inside an input folder.
///
/// Paths are compared after resolving symbolic links, and files by device and inode number, so a
/// report path that is another name for an input (a hard link, a bind mount, or a Hugging Face cache
/// snapshot whose files are symbolic links into `blobs/`) is refused as well. Folders are walked
/// once, when the value is made, following symbolic links to files (not to folders), at most
/// ``walkLimit`` entries per folder.
public struct ProtectedInputs: Sendable, ExpressibleByArrayLiteral {
    /// A file's identity: its device and inode number.
    struct FileIdentity: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// Entries looked at per input folder; a folder with more is still protected by its path.
    public static let walkLimit = 100_000

    /// The input paths as given, for messages.
    public let paths: [String]
    /// The resolved input paths (nothing may be written at or below them).
    let resolved: [String]
    /// Every regular file among the inputs and inside input folders, with the input it belongs to.
    let files: [FileIdentity: String]

    /// Protects `paths` and, for folders, every file they hold.
    public init(_ paths: [String]) {
        self.paths = paths
        resolved = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path }
        var files: [FileIdentity: String] = [:]
        for path in paths {
            guard let identity = Self.identity(of: path) else { continue }
            if identity.isFolder {
                Self.walk(path) { files[$0] = files[$0] ?? path }
            } else {
                files[identity.file] = files[identity.file] ?? path
            }
        }
        self.files = files
    }

    public init(arrayLiteral elements: String...) {
        self.init(elements)
    }

    /// The input that `destination` would overwrite or fall inside, if any.
    ///
    /// - Parameter destination: The report path, as the user gave it.
    /// - Returns: A description of the clash ("the input X", "the input X (the same file)"), or nil.
    public func clash(with destination: String) -> String? {
        let target = URL(fileURLWithPath: destination).standardizedFileURL.resolvingSymlinksInPath().path
        for (input, protected) in zip(paths, resolved) where target == protected || target.hasPrefix(protected + "/") {
            return "the input \(input)"
        }
        if let identity = Self.identity(of: destination), !identity.isFolder, let input = files[identity.file] {
            return "the input \(input) (the same file)"
        }
        return nil
    }

    /// The identity of the file at `path` after following symbolic links, and whether it is a folder.
    static func identity(of path: String) -> (file: FileIdentity, isFolder: Bool)? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let file = FileIdentity(device: UInt64(truncatingIfNeeded: status.st_dev), inode: UInt64(truncatingIfNeeded: status.st_ino))
        return (file, (status.st_mode & S_IFMT) == S_IFDIR)
    }

    /// Calls `found` with the identity of every file below `folder` (symbolic links to files followed).
    private static func walk(_ folder: String, _ found: (FileIdentity) -> Void) {
        guard let entries = FileManager.default.enumerator(atPath: folder) else { return }
        var seen = 0
        while let entry = entries.nextObject() as? String, seen < walkLimit {
            seen += 1
            let path = (folder as NSString).appendingPathComponent(entry)
            if let identity = identity(of: path), !identity.isFolder { found(identity.file) }
        }
    }
}
