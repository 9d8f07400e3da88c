import Safetensors

/// One diffusers component folder (`unet/`, `text_encoder_2/`, …), read.
struct ComponentFolder: Sendable {
    /// The folder's name, which prefixes its tensor names (`unet/conv_in.weight`).
    var name: String
    /// The variant read, or nil for the default weights.
    var variant: String?
    /// The weight files read, in shard order, with validated headers.
    var files: [Checkpoint.File]
    /// `_class_name` of `config.json` (diffusers), else the first of its `architectures` (transformers).
    var className: String?

    /// Reads the component folder at `path`.
    ///
    /// - Parameters:
    ///   - path: The folder.
    ///   - name: Its name in tensor names and messages.
    ///   - requested: The variant asked for, or nil (see ``VariantResolver``).
    ///   - errorPath: The path variant errors name (the checkpoint the user gave).
    ///   - guard: What counts as inside the checkpoint.
    /// - Returns: The component, or nil if the folder holds no weights at all.
    static func read(path: String, name: String, requested: String?, errorPath: String,
                     guard folderGuard: FolderGuard) throws(CheckpointError) -> ComponentFolder? {
        var names: [WeightFileName] = []
        for entry in try FileSystem.contents(of: path) {
            guard let parsed = WeightFileName(entry) else { continue }
            let entryPath = FileSystem.join(path, entry)
            switch FileSystem.kind(of: entryPath) {
            case .regularFile: names.append(parsed)
            case .missing:
                throw CheckpointError(path: entryPath, kind: .invalid("is a symbolic link to a missing file"))
            case .directory, .other: continue
            }
        }
        let resolver = VariantResolver(component: name, folderPath: path, errorPath: errorPath, names: names)
        guard let choice = try resolver.choose(requested: requested) else {
            // No safetensors weights: an older folder with one `.bin` (torch.save) file of the variant,
            // read through the restricted pickle reader. Sharded `.bin` weights are not read.
            let pickles = names.filter { $0.role == .pickle }
            if pickles.isEmpty { return nil }
            let candidates = pickles.filter { $0.variant == requested && $0.shard == nil }
            guard candidates.count == 1, let only = candidates.first, pickles.allSatisfy({ $0.shard == nil }) else {
                throw CheckpointError(path: path, kind: .unsupported(
                    "holds only \(pickles.map(\.name).joined(separator: ", ")); ckdiff reads one unsharded .bin weight file per component (\(requested.map { "variant \($0)" } ?? "no variant")); convert to safetensors"))
            }
            let filePath = FileSystem.join(path, only.name)
            try folderGuard.check(filePath)
            var file = try Checkpoint.torchFile(filePath)
            file.folder = name
            return ComponentFolder(name: name, variant: requested, files: [file], className: try className(path, folderGuard))
        }

        var files: [Checkpoint.File] = []
        switch choice.selection {
        case .single(let file):
            let filePath = FileSystem.join(path, file)
            files.append(Checkpoint.File(path: filePath, folder: name, header: try header(filePath, folderGuard)))
        case .sharded(let indexName, let shardNames):
            let indexPath = FileSystem.join(path, indexName)
            try folderGuard.check(indexPath)
            let index = try ShardIndex.read(indexPath)
            let referenced = Set(index.files)
            if let stray = shardNames.first(where: { !referenced.contains($0) }) {
                throw CheckpointError(path: indexPath, kind: .invalid(
                    "shard file '\(stray)' is in the folder but the index does not list it"))
            }
            var headers: [String: SafetensorsFile] = [:]
            for file in index.files {
                let filePath = FileSystem.join(path, file)
                guard FileSystem.kind(of: filePath) == .regularFile else {
                    throw CheckpointError(path: indexPath, kind: .invalid("the index names shard '\(file)', which is missing"))
                }
                let shard = try header(filePath, folderGuard)
                headers[file] = shard
                files.append(Checkpoint.File(path: filePath, folder: name, header: shard))
            }
            try index.validate(against: headers)
        }

        return ComponentFolder(name: name, variant: choice.variant, files: files, className: try className(path, folderGuard))
    }

    /// `_class_name` of the folder's `config.json` (diffusers), else the first of its `architectures`
    /// (transformers); nil without a config.
    private static func className(_ path: String, _ folderGuard: FolderGuard) throws(CheckpointError) -> String? {
        let configPath = FileSystem.join(path, "config.json")
        guard FileSystem.kind(of: configPath) == .regularFile else { return nil }
        try folderGuard.check(configPath)
        guard let config = try FileSystem.readJSON(configPath).objectValue else {
            throw CheckpointError(path: configPath, kind: .invalid("is not a JSON object"))
        }
        return config["_class_name"]?.stringValue ?? config["architectures"]?.arrayValue?.first?.stringValue
    }

    /// Opens one weight file after checking it is inside the checkpoint.
    private static func header(_ path: String, _ folderGuard: FolderGuard) throws(CheckpointError) -> SafetensorsFile {
        try folderGuard.check(path)
        do { return try SafetensorsFile.open(path) } catch { throw CheckpointError(error) }
    }
}
