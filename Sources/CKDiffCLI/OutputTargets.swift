import Foundation

/// The files a command will write, checked before any checkpoint is read.
///
/// Two outputs may not name the same file (standard output, `-`, counts as one file), and every
/// output's folder must exist, so a 14 GB comparison never ends in "The file doesn't exist".
struct OutputTargets {
    /// Why the outputs cannot all be written.
    struct Conflict: Error, CustomStringConvertible {
        var description: String
    }

    /// (option, path) for every output that was asked for.
    let outputs: [(option: String, path: String)]

    init(_ outputs: [(option: String, path: String?)]) {
        self.outputs = outputs.compactMap { entry in entry.path.map { (entry.option, $0) } }
    }

    /// Whether some report goes to standard output (then the terminal report and annotations do not).
    var usesStandardOutput: Bool {
        outputs.contains { $0.path == "-" }
    }

    /// Refuses two outputs naming one file and outputs whose folder does not exist.
    func validate() throws(Conflict) {
        var seen: [String: String] = [:]
        for (option, path) in outputs {
            let key = path == "-" ? "-" : URL(fileURLWithPath: path).standardizedFileURL.path
            if let earlier = seen[key] {
                let target = path == "-" ? "standard output" : path
                throw Conflict(description: "\(earlier) and \(option) both write to \(target): give each output its own file")
            }
            seen[key] = option
            guard path != "-" else { continue }
            let folder = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
                throw Conflict(description: "\(option) \(path): the folder \(folder) does not exist")
            }
            if !isFolder.boolValue {
                throw Conflict(description: "\(option) \(path): \(folder) is not a folder")
            }
        }
    }
}
