import Safetensors

/// The index of sharded safetensors weights (`diffusion_pytorch_model.safetensors.index.json`).
///
/// The file is `{"metadata": {…}, "weight_map": {tensor: shard file name}}`, as
/// written by `huggingface_hub.split_torch_state_dict_into_shards` and diffusers'
/// `save_pretrained`. ckdiff trusts neither side alone: ``validate(against:)``
/// requires the map and the shard headers to agree exactly.
struct ShardIndex: Sendable {
    /// The path of the index file.
    var path: String
    /// Each tensor and the shard file that holds it, in the order the index lists them.
    var weightMap: [(tensor: String, file: String)]
    /// The shard file names the map refers to, sorted by their UTF-8 bytes (shard order for numbered shards).
    var files: [String]

    /// Reads and checks the index at `path`.
    ///
    /// Refuses malformed JSON, a missing or non-object `weight_map`, duplicate tensor
    /// names, non-string file names, and file names that could leave the folder
    /// (containing `/` or `\`, or equal to `.` or `..`).
    static func read(_ path: String) throws(CheckpointError) -> ShardIndex {
        func invalid(_ text: String) -> CheckpointError { CheckpointError(path: path, kind: .invalid(text)) }
        guard let root = try FileSystem.readJSON(path).objectValue else {
            throw invalid("shard index is not a JSON object")
        }
        if let key = root.firstDuplicateKey { throw invalid("shard index lists '\(key)' more than once") }
        if let metadata = root["metadata"], metadata != .null, metadata.objectValue == nil {
            throw invalid("shard index 'metadata' is a \(metadata.typeName), not an object")
        }
        guard let mapValue = root["weight_map"] else { throw invalid("shard index has no 'weight_map'") }
        guard let map = mapValue.objectValue else {
            throw invalid("shard index 'weight_map' is a \(mapValue.typeName), not an object")
        }
        if let key = map.firstDuplicateKey { throw invalid("shard index 'weight_map' lists tensor '\(key)' more than once") }
        var weightMap: [(tensor: String, file: String)] = []
        var files = Set<String>()
        for (tensor, value) in map.members {
            guard let file = value.stringValue else {
                throw invalid("shard index maps tensor '\(tensor)' to a \(value.typeName), not a file name")
            }
            guard !file.isEmpty, file != ".", file != "..", !file.contains("/"), !file.contains("\\") else {
                throw invalid("shard index maps tensor '\(tensor)' to '\(file)', which is not a file name in the same folder; refusing a path that could leave the folder")
            }
            weightMap.append((tensor, file))
            files.insert(file)
        }
        guard !weightMap.isEmpty else { throw invalid("shard index 'weight_map' is empty") }
        return ShardIndex(path: path, weightMap: weightMap,
                          files: files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// Checks that the map and the shard headers agree exactly.
    ///
    /// - Parameters:
    ///   - headers: The header of every file in ``files``, by file name.
    ///
    /// Refused, in this order: a tensor held by two shards; a tensor a shard holds
    /// that the map does not list; a tensor the map lists that its shard does not hold.
    func validate(against headers: [String: SafetensorsFile]) throws(CheckpointError) {
        func invalid(_ text: String) -> CheckpointError { CheckpointError(path: path, kind: .invalid(text)) }
        var holder: [String: String] = [:]
        for file in files {
            guard let header = headers[file] else { continue }
            for tensor in header.tensors {
                if let other = holder[tensor.name] {
                    throw invalid("tensor '\(tensor.name)' is in two shards, '\(other)' and '\(file)'")
                }
                holder[tensor.name] = file
            }
        }
        var listed: [String: String] = [:]
        for entry in weightMap { listed[entry.tensor] = entry.file }
        for file in files {
            guard let header = headers[file] else { continue }
            for tensor in header.tensors where listed[tensor.name] == nil {
                throw invalid("shard '\(file)' holds tensor '\(tensor.name)', which the index does not list")
            }
        }
        for (tensor, file) in weightMap {
            guard let header = headers[file], header.tensor(named: tensor) != nil else {
                if let actual = holder[tensor] {
                    throw invalid("the index puts tensor '\(tensor)' in shard '\(file)', but it is in '\(actual)'")
                }
                throw invalid("the index lists tensor '\(tensor)' in shard '\(file)', which does not hold it")
            }
        }
    }
}
