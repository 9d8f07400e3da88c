import CKDiffTestSupport
import Foundation
import Safetensors

/// Builds diffusers-style folders in a temporary directory for the opening tests.
struct OpeningTestFolder {
    /// The folder's path.
    let root: String

    /// A new empty folder under a fresh temporary directory.
    init(_ label: String = "ckdiff-opening") throws {
        root = try Fixtures.temporaryDirectory(label).path
    }

    /// `root/relative`.
    func path(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    /// Creates `root/relative` and its parents.
    func makeFolder(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    /// Writes text to `root/relative`, creating parent folders.
    func writeText(_ text: String, to relative: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Writes a safetensors file to `root/relative`, creating parent folders.
    func writeTensors(_ entries: [SafetensorsWriter.Entry], to relative: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: url.path)
    }

    /// Copies a file or folder into `root/relative`.
    func copy(_ source: String, to relative: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: url.path)
    }

    /// Makes `root/relative` a symbolic link whose content is `destination`.
    func link(_ relative: String, to destination: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: destination)
    }

    /// Writes a `model_index.json` naming these components (`nil` class → `[null, null]`).
    func writeModelIndex(_ pipeline: String, _ components: [(String, String?)]) throws {
        var members = ["  \"_class_name\": \(SafetensorsWriter.jsonString(pipeline))"]
        for (name, className) in components {
            let value = className.map { "[\"diffusers\", \(SafetensorsWriter.jsonString($0))]" } ?? "[null, null]"
            members.append("  \(SafetensorsWriter.jsonString(name)): \(value)")
        }
        try writeText("{\n" + members.joined(separator: ",\n") + "\n}\n", to: "model_index.json")
    }

    /// Writes a shard index with this weight map (entries written in the order given, duplicates kept).
    func writeIndex(_ weightMap: [(tensor: String, file: String)], to relative: String) throws {
        let entries = weightMap.map { "    \(SafetensorsWriter.jsonString($0.tensor)): \(SafetensorsWriter.jsonString($0.file))" }
        try writeText("{\n  \"metadata\": {\"total_size\": 0},\n  \"weight_map\": {\n" + entries.joined(separator: ",\n") + "\n  }\n}\n",
                      to: relative)
    }

    /// Splits a safetensors file into `count` shards in `folder`, copying every tensor's bytes, and writes the index.
    ///
    /// - Returns: The shard file names, in order.
    @discardableResult
    func shard(_ source: String, count: Int, into folder: String, stem: String = "diffusion_pytorch_model",
               variant: String? = nil, legacy: Bool = false) throws -> [String] {
        let header = try SafetensorsFile.open(source)
        let file = try ReadOnlyFile(path: source)
        let width = String(format: "%05d", count)
        let names = (1...count).map { number -> String in
            let suffix = "-\(String(format: "%05d", number))-of-\(width)"
            guard let variant else { return "\(stem)\(suffix).safetensors" }
            return legacy ? "\(stem)\(suffix).\(variant).safetensors" : "\(stem).\(variant)\(suffix).safetensors"
        }
        var groups = Array(repeating: [SafetensorsWriter.Entry](), count: count)
        var weightMap: [(tensor: String, file: String)] = []
        for (position, info) in header.tensors.sorted(by: { $0.name < $1.name }).enumerated() {
            let bytes = try file.readBytes(count: info.byteCount, at: info.fileOffset)
            let shard = position * count / header.tensors.count
            groups[shard].append(.init(name: info.name, dtype: info.dtype, shape: info.shape, bytes: bytes))
            weightMap.append((info.name, names[shard]))
        }
        for (shard, entries) in groups.enumerated() {
            try writeTensors(entries, to: "\(folder)/\(names[shard])")
        }
        let indexName: String
        if let variant {
            indexName = legacy ? "\(stem).safetensors.\(variant).index.json" : "\(stem).safetensors.index.\(variant).json"
        } else {
            indexName = "\(stem).safetensors.index.json"
        }
        try writeIndex(weightMap, to: "\(folder)/\(indexName)")
        return names
    }

    /// Removes the folder.
    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Small tensors for synthetic components.
enum SmallTensors {
    /// Four F32 tensors `a`…`d`, with values that start at `base`.
    static func f32(_ names: [String] = ["a", "b", "c", "d"], base: Float = 1) -> [SafetensorsWriter.Entry] {
        names.enumerated().map { index, name in
            .f32(name, [2], [base + Float(index), base + Float(index) + 0.5])
        }
    }

    /// The same tensors as ``f32(_:base:)``, stored as F16.
    static func f16(_ names: [String] = ["a", "b", "c", "d"], base: Float = 1) -> [SafetensorsWriter.Entry] {
        names.enumerated().map { index, name in
            .f16(name, [2], [base + Float(index), base + Float(index) + 0.5])
        }
    }

    /// The same tensors as ``f32(_:base:)``, stored as BF16.
    static func bf16(_ names: [String] = ["a", "b", "c", "d"], base: Float = 1) -> [SafetensorsWriter.Entry] {
        names.enumerated().map { index, name in
            .bf16(name, [2], [base + Float(index), base + Float(index) + 0.5])
        }
    }
}
