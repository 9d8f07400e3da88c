import Comparison

/// What `ckdiff inspect` says about one checkpoint (JSON format version 1).
///
/// Every field is an integer, a string, an array or an object: the JSON never holds NaN
/// or infinities. Absent values (`variant`, `pipeline_class`, `metadata.format`, `scan`)
/// are written as `null`, so every key is always there.
public struct InspectReport: Sendable, Codable, Equatable {
    /// The format version of the JSON, `ckdiff_inspect_version`.
    public static let formatVersion = 1

    public var ckdiffInspectVersion = InspectReport.formatVersion
    /// The path as given.
    public var path: String
    /// `single_file`, `diffusers_folder` or `component_folder`.
    public var storage: String
    /// The diffusers variant read (`fp16`), or nil.
    public var variant: String?
    /// `_class_name` of `model_index.json`, for a diffusers folder.
    public var pipelineClass: String?
    /// How many safetensors files were read.
    public var files: Int
    /// ``Checkpoints/Layout`` raw value.
    public var layout: String
    /// ``Checkpoints/Architecture`` raw value.
    public var architecture: String
    /// The keys and shapes the architecture was decided on, one finding per entry.
    public var evidence: [String]
    public var tensors: Int
    /// Elements over all tensors.
    public var parameters: Int
    /// Bytes of tensor data over all tensors (headers excluded).
    public var bytes: Int
    /// One entry per component present, in the order unet, vae, clip_l, open_clip, ema, other.
    public var components: [ComponentSummary]
    public var ema: EMASummary
    /// Components whose floating-point tensors do not share one dtype.
    public var dtypeMixes: [DTypeMix]
    public var metadata: MetadataSummary
    /// Non-finite and F16-range counts, with `--scan`.
    public var scan: ScanSummary?
    /// Health findings: mixed dtypes inside a component; with `--scan`, non-finite values and F16 overflow risk.
    public var findings: [Finding] = []
    /// The `--fail-on` gate, when one was asked for (`null` otherwise).
    public var gate: InspectGate?

    enum CodingKeys: String, CodingKey {
        case ckdiffInspectVersion = "ckdiff_inspect_version"
        case path, storage, variant
        case pipelineClass = "pipeline_class"
        case files, layout, architecture, evidence, tensors, parameters, bytes, components, ema
        case dtypeMixes = "dtype_mixes"
        case metadata, scan, findings, gate
    }

    /// Tensors, elements and bytes of one component, by dtype.
    public struct ComponentSummary: Sendable, Codable, Equatable {
        /// ``Checkpoints/Component`` raw value (`unet`, `vae`, `clip_l`, `open_clip`, `ema`, `other`).
        public var component: String
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
        /// dtype name (`F16`) → tensors and elements of that dtype.
        public var dtypes: [String: DTypeCount]
    }

    /// How many tensors and elements have one dtype.
    public struct DTypeCount: Sendable, Codable, Equatable {
        public var tensors: Int
        public var parameters: Int
    }

    /// EMA weights against the denoiser.
    public struct EMASummary: Sendable, Codable, Equatable {
        /// `present`, `absent` or `partial` (fewer EMA tensors than UNet tensors).
        public var status: String
        /// EMA weight tensors (`model_ema.decay` and `model_ema.num_updates` not counted).
        public var tensors: Int
        /// Denoiser tensors.
        public var unetTensors: Int

        enum CodingKeys: String, CodingKey {
            case status, tensors
            case unetTensors = "unet_tensors"
        }
    }

    /// A component whose floating-point tensors do not share one dtype: loading it as one
    /// module in one dtype is what fails with "expected scalar type Float but found Half".
    public struct DTypeMix: Sendable, Codable, Equatable {
        public var component: String
        /// Each dtype with its tensor count and the first few tensor names, most tensors first.
        public var dtypes: [DTypeExamples]
    }

    /// One dtype inside a mix.
    public struct DTypeExamples: Sendable, Codable, Equatable {
        public var dtype: String
        public var tensors: Int
        /// Up to three tensor names, in checkpoint order.
        public var examples: [String]
    }

    /// The `__metadata__` of every file, merged, grouped by the tool that writes it.
    ///
    /// Values are complete here; the terminal rendering shortens long ones.
    public struct MetadataSummary: Sendable, Codable, Equatable {
        /// Entries over all groups.
        public var entries: Int
        /// The `format` entry (`pt` from safetensors' torch writer), or nil.
        public var format: String?
        /// `modelspec.*` (Stability's model spec; ComfyUI, OneTrainer, kohya).
        public var modelspec: [String: String]
        /// `ss_*` (kohya sd-scripts training metadata).
        public var kohya: [String: String]
        /// `ot_*` (OneTrainer: branch, revision, config).
        public var onetrainer: [String: String]
        /// Every other entry (ComfyUI `prompt`, diffusers `lora_adapter_metadata`, …).
        public var other: [String: String]
    }

    /// What `--scan` found.
    public struct ScanSummary: Sendable, Codable, Equatable {
        /// Floating-point tensors read (others cannot hold NaN or infinities).
        public var tensorsScanned: Int
        public var totals: ScanCounts
        /// Totals by component, for the components scanned.
        public var byComponent: [String: ScanCounts]
        /// Every tensor with a non-zero count, in checkpoint order.
        public var tensors: [ScanEntry]

        enum CodingKeys: String, CodingKey {
            case tensorsScanned = "tensors_scanned"
            case totals
            case byComponent = "by_component"
            case tensors
        }
    }

    /// NaN, ±Inf and beyond-F16 counts.
    public struct ScanCounts: Sendable, Codable, Equatable {
        public var nan = 0
        public var posInf = 0
        public var negInf = 0
        /// Finite values with |x| > 65504.
        public var beyondF16 = 0

        enum CodingKeys: String, CodingKey {
            case nan
            case posInf = "pos_inf"
            case negInf = "neg_inf"
            case beyondF16 = "beyond_f16"
        }
    }

    /// One tensor's scan counts.
    public struct ScanEntry: Sendable, Codable, Equatable {
        public var name: String
        public var component: String
        public var dtype: String
        public var counts: ScanCounts
    }
}

extension InspectReport {
    /// Writes every key, absent optionals as `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ckdiffInspectVersion, forKey: .ckdiffInspectVersion)
        try c.encode(path, forKey: .path)
        try c.encode(storage, forKey: .storage)
        try c.encode(variant, forKey: .variant)
        try c.encode(pipelineClass, forKey: .pipelineClass)
        try c.encode(files, forKey: .files)
        try c.encode(layout, forKey: .layout)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(tensors, forKey: .tensors)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(components, forKey: .components)
        try c.encode(ema, forKey: .ema)
        try c.encode(dtypeMixes, forKey: .dtypeMixes)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(scan, forKey: .scan)
        try c.encode(findings, forKey: .findings)
        try c.encode(gate, forKey: .gate)
    }
}

extension InspectReport.MetadataSummary {
    enum CodingKeys: String, CodingKey {
        case entries, format, modelspec, kohya, onetrainer, other
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entries, forKey: .entries)
        try c.encode(format, forKey: .format)
        try c.encode(modelspec, forKey: .modelspec)
        try c.encode(kohya, forKey: .kohya)
        try c.encode(onetrainer, forKey: .onetrainer)
        try c.encode(other, forKey: .other)
    }
}
