import Safetensors

/// A model as stored on disk: one or more safetensors files seen as one set of named tensors.
///
/// A checkpoint is opened from a single `.safetensors` file, a legacy PyTorch file
/// (`.ckpt`, `.pt`, `.pth`, `.bin`, read by a restricted pickle reader), a diffusers folder
/// (`model_index.json` and component folders), one component folder, or a
/// sharded component (see `Checkpoint.open`). Opening reads headers only.
public struct Checkpoint: Sendable {
    /// How the checkpoint is stored.
    public enum Storage: String, Sendable, Codable {
        /// One `.safetensors` file, or one legacy PyTorch file (see ``File/format``).
        case singleFile = "single_file"
        /// A diffusers pipeline folder with `model_index.json`.
        case diffusersFolder = "diffusers_folder"
        /// One component folder (for example `unet/`) with its config and weights.
        case componentFolder = "component_folder"
    }

    /// One file of the checkpoint.
    public struct File: Sendable {
        /// The format of a weights file.
        public enum Format: String, Sendable, Codable {
            /// A `.safetensors` file.
            case safetensors
            /// A `torch.save` zip archive (`.ckpt`, `.pt`, `.pth`, `.bin` of torch ≥ 1.6).
            case pytorchZip = "pytorch_zip"
            /// A `torch.save` pickle stream of earlier torch.
            case pytorchLegacy = "pytorch_legacy"
        }

        /// The file's path.
        public var path: String
        /// The diffusers component folder it belongs to (`"unet"`, `"text_encoder_2"`, …), or nil for a single file.
        public var folder: String?
        /// Its validated header; for a PyTorch file, the tensors its pickle locates (see ``format``).
        public var header: SafetensorsFile
        /// The file's format.
        public var format: Format

        public init(path: String, folder: String?, header: SafetensorsFile, format: Format = .safetensors) {
            self.path = path
            self.folder = folder
            self.header = header
            self.format = format
        }
    }

    /// A tensor of the checkpoint and where its data is.
    public struct Tensor: Sendable {
        /// The checkpoint-wide name: the key itself in a single file, `folder/key` in a folder (`unet/conv_in.weight`).
        public var name: String
        /// The key inside its file.
        public var key: String
        /// The component folder, or nil for a single file.
        public var folder: String?
        /// Index into ``Checkpoint/files``.
        public var fileIndex: Int
        /// Dtype, shape and byte range.
        public var info: TensorInfo

        public init(name: String, key: String, folder: String?, fileIndex: Int, info: TensorInfo) {
            self.name = name
            self.key = key
            self.folder = folder
            self.fileIndex = fileIndex
            self.info = info
        }
    }

    /// The path the checkpoint was opened from.
    public var path: String
    /// How it is stored.
    public var storage: Storage
    /// The files read, in a fixed order (component folder, then shard order).
    public var files: [File]
    /// Every tensor, in a fixed order (file order, then data order within a file).
    public var tensors: [Tensor]
    /// The diffusers variant that was read (`"fp16"`): the one every component read, or nil if the
    /// default weights were read anywhere (see ``componentVariants``).
    public var variant: String?
    /// `_class_name` from `model_index.json`, for a diffusers folder.
    public var pipelineClass: String?
    /// The `_class_name` of each component folder's `config.json`, by folder.
    public var componentClasses: [String: String]
    /// The variant each component folder was read in, for the folders that read a variant rather than the default weights.
    public var componentVariants: [String: String] = [:]
    /// For a single file named like diffusers weights (`diffusion_pytorch_model.safetensors`,
    /// `model.fp16.safetensors`, a shard), the name of the folder it sits in (`"unet"`); nil otherwise.
    ///
    /// Its tensor names stay bare keys; this only tells layout detection which component the file claims to be.
    public var componentFolderHint: String? = nil

    public init(path: String, storage: Storage, files: [File], tensors: [Tensor], variant: String? = nil,
                pipelineClass: String? = nil, componentClasses: [String: String] = [:]) {
        self.path = path
        self.storage = storage
        self.files = files
        self.tensors = tensors
        self.variant = variant
        self.pipelineClass = pipelineClass
        self.componentClasses = componentClasses
    }

    /// Builds a checkpoint from files, listing their tensors in file order.
    public init(path: String, storage: Storage, files: [File], variant: String? = nil,
                pipelineClass: String? = nil, componentClasses: [String: String] = [:]) {
        var tensors: [Tensor] = []
        for (index, file) in files.enumerated() {
            for info in file.header.tensors {
                let name = file.folder.map { "\($0)/\(info.name)" } ?? info.name
                tensors.append(Tensor(name: name, key: info.name, folder: file.folder, fileIndex: index, info: info))
            }
        }
        self.init(path: path, storage: storage, files: files, tensors: tensors, variant: variant,
                  pipelineClass: pipelineClass, componentClasses: componentClasses)
    }

    /// The metadata of every file, merged in file order (later files do not override earlier keys).
    public var metadata: [(key: String, value: String)] {
        var seen = Set<String>()
        var merged: [(key: String, value: String)] = []
        for file in files {
            for entry in file.header.metadata where seen.insert(entry.key).inserted {
                merged.append(entry)
            }
        }
        return merged
    }
}
