import Safetensors
import TorchPickle

extension Checkpoint {
    /// Opens a checkpoint from a path, reading and validating headers only.
    ///
    /// What the path may be:
    /// * **A legacy PyTorch file** (`.ckpt`, `.pt`, `.pth`, `.bin`) opens as ``Storage/singleFile``
    ///   through ``TorchCheckpointFile``: a restricted pickle reader that executes nothing and
    ///   refuses any global outside a state dict's needs. A Lightning / original-SD `.ckpt` is read
    ///   as its `state_dict`; tensors point at their bytes inside the file.
    /// * **A `.safetensors` file** opens as ``Storage/singleFile``; tensor names are
    ///   the file's keys. If the file is named like diffusers weights
    ///   (`unet/diffusion_pytorch_model.safetensors`, a variant or a shard), the folder
    ///   it sits in is recorded in ``componentFolderHint`` and a variant in its name in
    ///   ``variant``; `variant` is not used for single files.
    /// * **A diffusers folder** (it holds `model_index.json`) opens as
    ///   ``Storage/diffusersFolder``. Its components are the subfolders that
    ///   `model_index.json` names with a `[library, class]` pair, plus subfolders it
    ///   does not name that hold a `config.json` (such as `unet_ema/`), in both cases
    ///   only if they hold weights; entries set to `[null, null]` are skipped, as are
    ///   named components without a folder. Components are read in the byte order of
    ///   their folder names, and tensors are named `folder/key` (`unet/conv_in.weight`).
    ///   ``pipelineClass`` is `_class_name` of `model_index.json`; ``componentClasses``
    ///   holds each component's `config.json` `_class_name` (for transformers models, the
    ///   first of `architectures`; without a config, the class `model_index.json` names).
    /// * **A component folder** (no `model_index.json`, but diffusers weight files, such
    ///   as `unet/`) opens as ``Storage/componentFolder``. Its tensors are named with the
    ///   folder's own name as prefix (`unet/conv_in.weight`), so they line up with the
    ///   same component inside a diffusers folder.
    ///
    /// Weight files are `diffusion_pytorch_model[.variant].safetensors` or
    /// `model[.variant].safetensors`, or shards of them
    /// (`diffusion_pytorch_model[.variant]-00001-of-00002.safetensors`, or the legacy
    /// `diffusion_pytorch_model-00001-of-00002.variant.safetensors`) with an index
    /// (`diffusion_pytorch_model.safetensors.index[.variant].json`, or the legacy
    /// `….safetensors.variant.index.json`). The index and the shard headers must agree
    /// exactly: every listed shard present, every tensor in exactly one shard and
    /// listed for that shard, every shard file of the folder listed.
    ///
    /// Variants, component by component:
    /// * With `variant` given, every component must have that variant; if one does not,
    ///   opening fails and lists the variants it has (`default` for plain weights).
    /// * With `variant` nil, a component's default weights are read when they exist;
    ///   if it has no default weights but exactly one variant, that variant is read; if
    ///   it has several variants and no default, opening fails and asks for a variant.
    ///
    /// ``variant`` is then the variant every component read (nil if the default weights
    /// were read anywhere), and ``componentVariants`` lists each component that read one.
    ///
    /// Inside a folder, nothing outside it is read: a symbolic link that resolves outside
    /// the folder is refused (except, for a Hugging Face cache snapshot, into that
    /// repository's `blobs/`), and so is an index that names a file in another folder.
    ///
    /// - Parameters:
    ///   - path: A `.safetensors` file, a diffusers folder, or a component folder.
    ///   - variant: The diffusers weight variant to read (`"fp16"`), or nil for the rule above.
    /// - Returns: The checkpoint with every header validated.
    /// - Throws: ``CheckpointError``, naming the path concerned: ``CheckpointError/Kind/notFound``
    ///   for a missing path, ``CheckpointError/Kind/unsupported(_:)`` for what ckdiff does not
    ///   read (a folder that is neither kind),
    ///   ``CheckpointError/Kind/invalid(_:)`` for an inconsistent folder, index or variant
    ///   choice, ``CheckpointError/Kind/safetensors(_:)`` for a refused weight file,
    ///   ``CheckpointError/Kind/torchPickle(_:)`` for a refused PyTorch file.
    public static func open(_ path: String, variant: String? = nil) throws(CheckpointError) -> Checkpoint {
        if let variant, !WeightFileName.isVariant(Substring(variant)) {
            throw CheckpointError(path: path, kind: .unsupported(
                "'\(variant)' is not a variant name (letters, digits and '_', such as fp16)"))
        }
        switch FileSystem.kind(of: path) {
        case .missing:
            throw CheckpointError(path: path, kind: .notFound)
        case .other:
            throw CheckpointError(path: path, kind: .unsupported("is neither a regular file nor a folder"))
        case .regularFile:
            return try openFile(path)
        case .directory:
            if FileSystem.kind(of: FileSystem.join(path, "model_index.json")) != .missing {
                return try openDiffusersFolder(path, variant: variant)
            }
            let entries = try FileSystem.contents(of: path)
            if entries.contains(where: { WeightFileName($0) != nil }) {
                return try openComponentFolder(path, variant: variant)
            }
            throw CheckpointError(path: path, kind: .unsupported(unknownFolderText(entries)))
        }
    }

    /// Opens a single file, refusing formats ckdiff does not read.
    private static func openFile(_ path: String) throws(CheckpointError) -> Checkpoint {
        let name = FileSystem.lastComponent(path)
        let lowered = name.lowercased()
        if TorchCheckpointFile.hasTorchExtension(name) {
            return try openTorchFile(path)
        }
        if name == "model_index.json" {
            throw CheckpointError(path: path, kind: .unsupported("open the diffusers folder that holds model_index.json, not the file"))
        }
        if lowered.hasSuffix(".json") {
            throw CheckpointError(path: path, kind: .unsupported("is a JSON file, not a checkpoint; open the folder that holds it"))
        }
        if lowered.hasSuffix(".gguf") {
            throw CheckpointError(path: path, kind: .unsupported("GGUF files are not read; ckdiff reads safetensors"))
        }
        let header: SafetensorsFile
        do { header = try SafetensorsFile.open(path) } catch { throw CheckpointError(error) }
        var checkpoint = Checkpoint(path: path, storage: .singleFile, files: [File(path: path, folder: nil, header: header)])
        if let parsed = WeightFileName(name), parsed.role == .weights {
            let directory = FileSystem.directoryPart(path)
            checkpoint.componentFolderHint = FileSystem.lastComponent(FileSystem.resolvedPath(directory) ?? directory)
            checkpoint.variant = parsed.variant
        }
        return checkpoint
    }

    /// Opens a legacy PyTorch file as a single-file checkpoint.
    private static func openTorchFile(_ path: String) throws(CheckpointError) -> Checkpoint {
        Checkpoint(path: path, storage: .singleFile, files: [try torchFile(path)])
    }

    /// Reads a legacy PyTorch file's tensors (restricted pickle reader) as a checkpoint file with no folder.
    static func torchFile(_ path: String) throws(CheckpointError) -> File {
        let file: TorchCheckpointFile
        do { file = try TorchCheckpointFile.open(path) } catch { throw CheckpointError(error) }
        let header = SafetensorsFile(locatedTensorsOf: path, fileSize: file.fileSize, tensors: file.tensors,
                                     metadata: file.metadata)
        let format: File.Format = file.format == .zip ? .pytorchZip : .pytorchLegacy
        return File(path: path, folder: nil, header: header, format: format)
    }

    /// Opens a diffusers folder (one with `model_index.json`).
    private static func openDiffusersFolder(_ path: String, variant: String?) throws(CheckpointError) -> Checkpoint {
        let folderGuard = try FolderGuard(root: path)
        let indexPath = FileSystem.join(path, "model_index.json")
        try folderGuard.check(indexPath)
        guard let index = try FileSystem.readJSON(indexPath).objectValue else {
            throw CheckpointError(path: indexPath, kind: .invalid("is not a JSON object"))
        }
        if let key = index.firstDuplicateKey {
            throw CheckpointError(path: indexPath, kind: .invalid("lists '\(key)' more than once"))
        }
        // Components model_index.json names: class name, or nil when set to [null, null].
        var named: [String: String?] = [:]
        for (key, value) in index.members where !key.hasPrefix("_") {
            guard let pair = value.arrayValue, pair.count == 2 else { continue }
            guard !key.isEmpty, key != ".", key != "..", !key.contains("/"), !key.contains("\\") else {
                throw CheckpointError(path: indexPath, kind: .invalid("names component '\(key)', which is not a folder name"))
            }
            if let library = pair[0].stringValue, let className = pair[1].stringValue, !library.isEmpty {
                named[key] = .some(className)
            } else {
                named[key] = .some(nil)
            }
        }

        var components: [ComponentFolder] = []
        var classes: [String: String] = [:]
        for entry in try FileSystem.contents(of: path) where !entry.hasPrefix(".") {
            let folder = FileSystem.join(path, entry)
            guard FileSystem.kind(of: folder) == .directory else { continue }
            let listedClass: String?
            if let listed = named[entry] {
                guard let className = listed else { continue }
                listedClass = className
            } else {
                guard FileSystem.kind(of: FileSystem.join(folder, "config.json")) == .regularFile else { continue }
                listedClass = nil
            }
            // Each file read is checked against the guard, so a linked folder is refused only if it is read.
            guard let component = try ComponentFolder.read(
                path: folder, name: entry, requested: variant, errorPath: path, guard: folderGuard) else { continue }
            if let className = component.className ?? listedClass { classes[entry] = className }
            components.append(component)
        }
        guard !components.isEmpty else {
            throw CheckpointError(path: path, kind: .invalid("diffusers folder has no component folder with safetensors weights"))
        }
        let pipelineClass = index["_class_name"]?.stringValue
        return assemble(path: path, storage: .diffusersFolder, components: components,
                        pipelineClass: pipelineClass, classes: classes)
    }

    /// Opens one component folder on its own (`unet/` with `config.json` and weights).
    private static func openComponentFolder(_ path: String, variant: String?) throws(CheckpointError) -> Checkpoint {
        let folderGuard = try FolderGuard(root: path)
        var name = FileSystem.lastComponent(path)
        if name == "." || name == ".." || name == "/" || name.isEmpty {
            name = FileSystem.lastComponent(folderGuard.resolvedRoot)
        }
        guard let component = try ComponentFolder.read(
            path: path, name: name, requested: variant, errorPath: path, guard: folderGuard) else {
            throw CheckpointError(path: path, kind: .unsupported("component folder holds no safetensors weights"))
        }
        var classes: [String: String] = [:]
        if let className = component.className { classes[name] = className }
        return assemble(path: path, storage: .componentFolder, components: [component], pipelineClass: nil, classes: classes)
    }

    /// Builds the checkpoint from its components, in order.
    private static func assemble(path: String, storage: Storage, components: [ComponentFolder],
                                 pipelineClass: String?, classes: [String: String]) -> Checkpoint {
        let variants = components.map(\.variant)
        let common = variants.allSatisfy { $0 == variants.first } ? variants.first ?? nil : nil
        var checkpoint = Checkpoint(path: path, storage: storage, files: components.flatMap(\.files), variant: common,
                                    pipelineClass: pipelineClass, componentClasses: classes)
        for component in components {
            if let variant = component.variant { checkpoint.componentVariants[component.name] = variant }
        }
        return checkpoint
    }

    /// Why a folder is neither a diffusers folder nor a component folder, with a hint.
    private static func unknownFolderText(_ entries: [String]) -> String {
        if entries.contains("snapshots") && entries.contains("blobs") {
            return "looks like a Hugging Face cache entry; open one of its snapshots/<revision> folders"
        }
        let safetensors = entries.filter { $0.lowercased().hasSuffix(".safetensors") }
        if !safetensors.isEmpty {
            let shown = safetensors.prefix(3).joined(separator: ", ") + (safetensors.count > 3 ? ", …" : "")
            return "has no model_index.json and no diffusers weight files; open one of its .safetensors files (\(shown))"
        }
        return "is neither a diffusers folder (no model_index.json) nor a component folder (no diffusion_pytorch_model or model .safetensors files)"
    }
}
