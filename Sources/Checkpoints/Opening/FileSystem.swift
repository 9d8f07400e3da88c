#if canImport(Glibc)
import CKDiffJSON
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Safetensors

/// The few read-only file-system queries opening needs, on the C library directly.
///
/// The `Checkpoints` target stays free of Foundation, like `Safetensors`.
enum FileSystem {
    /// What a path is, following symbolic links.
    enum Kind: Equatable {
        case missing
        case regularFile
        case directory
        case other
    }

    /// What `path` is, following symbolic links (a dangling link is `.missing`).
    ///
    /// The corresponding C function is `stat`.
    static func kind(of path: String) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Whether `path` itself is a symbolic link.
    ///
    /// The corresponding C function is `lstat`.
    static func isSymbolicLink(_ path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFLNK
    }

    /// The absolute path with every symbolic link, `.` and `..` resolved, or nil if it cannot be resolved.
    ///
    /// The corresponding C function is `realpath`.
    static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The names in a directory, sorted by their UTF-8 bytes, without `.` and `..`.
    ///
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    static func contents(of directory: String) throws(CheckpointError) -> [String] {
        guard let handle = opendir(directory) else {
            let text = String(cString: strerror(errno))
            throw CheckpointError(path: directory, kind: .invalid("cannot list the folder: \(text)"))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `directory` and `name` joined with one slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The last component of a path, ignoring trailing slashes (`"unet"` for `"a/unet/"`).
    static func lastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed.split(separator: "/", omittingEmptySubsequences: false).last ?? trimmed)
    }

    /// The directory part of a path as written (`"."` when there is none).
    static func directoryPart(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// The largest JSON file (config, index) read; a real shard index of a large model is a few MB.
    static let maximumJSONSize: Int64 = 256 << 20

    /// Reads and parses a JSON file with the strict parser.
    ///
    /// Read through ``SideFile``: a FIFO, device or directory of that name is refused without
    /// blocking, and a file above ``maximumJSONSize`` before it is read.
    static func readJSON(_ path: String) throws(CheckpointError) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try SideFile.read(path, limit: maximumJSONSize, what: "JSON config or index")
        } catch {
            throw CheckpointError(path: path, kind: .invalid(error.reason))
        }
        do {
            return try StrictJSONParser.parse(bytes)
        } catch {
            throw CheckpointError(path: path, kind: .invalid("is not valid JSON: \(error.description)"))
        }
    }
}

extension JSONObject {
    /// The first member name that appears more than once, if any.
    var firstDuplicateKey: String? {
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted { return member.key }
        return nil
    }
}
