/// How one architecture names its tensors in one layout: where each part sits, how the EMA
/// copy is named, and which keys exist in this layout only.
///
/// Detection (``ComponentClassifier``), alignment (``KeyScheme``), coverage (``LeftoverClassifier``)
/// and mapping tables (``MappingTable``) all read these values; they are listed once, in
/// ``KeyNamespaces``.
public struct KeyNamespace: Sendable, Hashable {
    /// The layout these spellings belong to.
    public var layout: Layout
    /// Where each part sits, text encoders in conditioning order.
    public var components: [ComponentPrefix]
    /// How the denoiser's EMA copy is named.
    public var ema: EMANaming
    /// Keys this layout may hold that are not model weights.
    public var layoutOnly: [LayoutOnlyKey]

    public init(layout: Layout, components: [ComponentPrefix], ema: EMANaming, layoutOnly: [LayoutOnlyKey]) {
        self.layout = layout
        self.components = components
        self.ema = ema
        self.layoutOnly = layoutOnly
    }

    /// The entry of the denoiser, if the layout holds one.
    public var denoiser: ComponentPrefix? { components.first { $0.part == .denoiser } }
    /// The entry of the autoencoder, if the layout holds one.
    public var vae: ComponentPrefix? { components.first { $0.part == .vae } }
    /// The entries of the text encoders, in conditioning order.
    public var textEncoders: [ComponentPrefix] { components.filter { $0.part == .textEncoder } }
}

/// A key prefix (or diffusers folder) that one part of a model sits under, and how the keys
/// beneath it are spelled.
public struct ComponentPrefix: Sendable, Hashable {
    /// Which part of the model the keys belong to.
    public enum Part: Sendable, Hashable {
        /// The denoiser (a UNet).
        case denoiser
        /// The autoencoder.
        case vae
        /// A text encoder.
        case textEncoder
        /// Something ckdiff names but does not map (another encoder, an unrecognised slot).
        case other
    }

    /// How the keys under the prefix are spelled.
    public enum Naming: Sendable, Hashable {
        /// The original LDM/SGM/OpenCLIP names (`input_blocks.1.0.…`, `transformer.resblocks.…`).
        case original
        /// diffusers (UNet, VAE) or Hugging Face CLIP names (`down_blocks.…`, `text_model.…`).
        case diffusers
    }

    /// The prefix (`model.diffusion_model.`, `te2.`), or a folder ending in `/` (`unet/`). A `#`
    /// stands for a conditioning slot number (`conditioner.embedders.#.model.`).
    public var prefix: String
    /// The slot number `#` must have, or nil for any.
    public var slot: Int?
    /// The part of the model.
    public var part: Part
    /// The report component (a CLIP-L entry becomes OpenCLIP when its text model is 1024 or 1280 wide).
    public var component: Component
    /// How the keys are spelled.
    public var naming: Naming
    /// The canonical folder of the keys (`text_encoder_2`), or nil when the keys decide it (by width).
    public var folder: String?
    /// A further prefix that the mapped keys sit under (ComfyUI's `transformer.` below `text_encoders.clip_l.`).
    public var under: String

    public init(prefix: String, slot: Int? = nil, part: Part, component: Component, naming: Naming,
                folder: String?, under: String = "") {
        self.prefix = prefix
        self.slot = slot
        self.part = part
        self.component = component
        self.naming = naming
        self.folder = folder
        self.under = under
    }

    /// A denoiser under `prefix`.
    public static func denoiser(_ prefix: String, _ naming: Naming) -> ComponentPrefix {
        ComponentPrefix(prefix: prefix, part: .denoiser, component: .unet, naming: naming, folder: "unet")
    }

    /// An autoencoder under `prefix`.
    public static func vae(_ prefix: String, _ naming: Naming) -> ComponentPrefix {
        ComponentPrefix(prefix: prefix, part: .vae, component: .vae, naming: naming, folder: "vae")
    }

    /// A text encoder under `prefix`, the component and canonical folder it stands for.
    public static func textEncoder(_ prefix: String, slot: Int? = nil, _ component: Component, _ naming: Naming,
                                   folder: String?, under: String = "") -> ComponentPrefix {
        ComponentPrefix(prefix: prefix, slot: slot, part: .textEncoder, component: component, naming: naming,
                        folder: folder, under: under)
    }

    /// Keys under `prefix` that are named but not mapped.
    public static func other(_ prefix: String) -> ComponentPrefix {
        ComponentPrefix(prefix: prefix, part: .other, component: .other, naming: .original, folder: nil)
    }

    /// Whether the entry is a diffusers component folder rather than a key prefix.
    public var isFolder: Bool { prefix.hasSuffix("/") }

    /// The folder name of a folder entry (`unet`), nil for a key prefix.
    public var folderName: String? { isFolder ? String(prefix.dropLast()) : nil }

    /// The prefix with `#` replaced by `slot`, for writing keys.
    public func spelled(slot value: Int) -> String {
        prefix.split(separator: "#", omittingEmptySubsequences: false).joined(separator: String(value))
    }

    /// The prefix `key` starts with, as spelled in the key (`conditioner.embedders.1.model.`), or nil.
    ///
    /// `#` matches one or more ASCII digits whose value must equal ``slot`` when it is set.
    public func match(_ key: String) -> String? {
        guard let hash = prefix.utf8.firstIndex(of: UInt8(ascii: "#")) else {
            return key.hasPrefix(prefix) ? prefix : nil
        }
        let head = prefix.utf8[..<hash]
        let tail = prefix.utf8[prefix.utf8.index(after: hash)...]
        let bytes = key.utf8
        guard bytes.starts(with: head) else { return nil }
        let digitsStart = bytes.index(bytes.startIndex, offsetBy: head.count)
        var end = digitsStart
        var value = 0
        var overflow = false
        while end < bytes.endIndex, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[end] - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            value = sum
            end = bytes.index(after: end)
        }
        guard end > digitsStart, bytes[end...].starts(with: tail) else { return nil }
        if let slot, overflow || value != slot { return nil }
        let matchedEnd = bytes.index(end, offsetBy: tail.count)
        return String(decoding: bytes[..<matchedEnd], as: UTF8.self)
    }
}

/// How a layout names the EMA copy of the denoiser (checkpoint-formats §9).
public enum EMANaming: Sendable, Hashable {
    /// The layout keeps no EMA copy.
    case none
    /// LitEma's flattened names next to the denoiser (`model_ema.diffusion_modelinput_blocks11proj_inweight`).
    case flattened(FlatEMANaming)
    /// A diffusers folder whose name ends in `suffix` (`unet_ema/`), in diffusers naming, with its
    /// settings in the folder's `config.json`.
    case folder(suffix: String)
}

/// LitEma's names: ``prefix`` + ``stripped`` + the denoiser's original key with every dot removed
/// (some files leave ``stripped`` out), next to two scalars.
public struct FlatEMANaming: Sendable, Hashable {
    /// The prefix of every EMA key (`model_ema.`).
    public var prefix: String
    /// The wrapper attribute the denoiser sits under, dots removed (`diffusion_model`).
    public var stripped: String
    /// The decay scalar's key (`model_ema.decay`).
    public var decay: String
    /// The update counter's key (`model_ema.num_updates`).
    public var numUpdates: String

    public init(prefix: String, stripped: String, decay: String, numUpdates: String) {
        self.prefix = prefix
        self.stripped = stripped
        self.decay = decay
        self.numUpdates = numUpdates
    }
}

/// A key pattern: a whole key or a key's last component.
public enum KeyPattern: Sendable, Hashable {
    /// Exactly this top-level key (no folder).
    case exact(String)
    /// Any key whose last dot-separated component is this.
    case leaf(String)

    /// Whether `key` matches.
    public func matches(_ key: String) -> Bool {
        switch self {
        case .exact(let name): return key == name
        case .leaf(let name):
            let last = key.split(separator: ".").last ?? Substring(key)
            return last == name
        }
    }
}

/// A key a layout may hold that is not a model weight, and how it is classed when the other side lacks it.
public struct LayoutOnlyKey: Sendable, Hashable {
    /// The keys.
    public var pattern: KeyPattern
    /// The leftover class: ``LeftoverClass/scheduleBuffer``, ``LeftoverClass/marker`` or ``LeftoverClass/layoutOnly``.
    public var kind: LeftoverClass

    public init(_ pattern: KeyPattern, _ kind: LeftoverClass) {
        self.pattern = pattern
        self.kind = kind
    }
}
