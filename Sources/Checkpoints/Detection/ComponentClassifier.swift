/// Says which component each tensor of a checkpoint belongs to, from its namespace.
///
/// The prefixes and folders are those of ``KeyNamespaces`` (checkpoint-formats §1, §9, §12, §15),
/// merged by ``NamespaceIndex``: a key under a family's prefix (`model.diffusion_model.`,
/// `conditioner.embedders.1.model.`, kohya `te2.`) or in a diffusers folder (`unet/`, `text_encoder_2/`)
/// takes that entry's component, a key under a flattened EMA prefix (`model_ema.`) or in an EMA
/// folder (`unet_ema/`, any `*_ema`) is ``Component/ema``, schedule buffers and markers are
/// ``Component/other``, and so is anything else under a known prefix that maps nothing
/// (`text_encoders.t5xxl.`).
///
/// A CLIP text model in HF form that is 1024 or 1280 wide (SD2's ViT-H in a diffusers
/// `text_encoder/` or kohya `te.`) is OpenCLIP, whatever its namespace says. Keys with no
/// prefix (a lone component file) take the component of the folder the file sits in, else
/// the one their names show. LoRA files are classified by their module prefixes
/// (`lora_unet_`, `lora_te1_`, `text_encoder_2.`, …).
///
/// Classification is one pass over the names with a fixed list of prefixes: linear in the
/// number of tensors.
public struct ComponentClassifier: Sendable {
    /// The component of one tensor and the namespace its key sits in.
    public struct Assignment: Sendable, Hashable {
        /// The component.
        public var component: Component
        /// The prefix of the key that names the component (`model.diffusion_model.`), empty for
        /// folders and bare keys: the key without it is the component's own key.
        public var namespace: String

        public init(component: Component, namespace: String) {
            self.component = component
            self.namespace = namespace
        }
    }

    let checkpoint: Checkpoint
    let layout: Layout

    public init(_ checkpoint: Checkpoint, layout: Layout) {
        self.checkpoint = checkpoint
        self.layout = layout
    }

    /// The assignment of every tensor, by index into ``Checkpoint/tensors``.
    public func assignments() -> [Assignment] {
        if layout.isAdapter { return checkpoint.tensors.map { Assignment(component: adapterComponent($0.key), namespace: "") } }
        let widths = textModelWidths()
        let bare = BareKeys(checkpoint)
        return checkpoint.tensors.map { tensor in
            if let folder = tensor.folder {
                return Assignment(component: folderComponent(folder, width: widths[folder + "/"]), namespace: "")
            }
            let key = tensor.key
            if SpecialKeys.scheduleBuffers.contains(key) || SpecialKeys.markers.contains(key) {
                return Assignment(component: .other, namespace: "")
            }
            if let namespace = ComponentClassifier.namespace(of: key) {
                var component = namespace.component
                if component == .clipL, let width = widths[namespace.prefix], width == 1024 || width == 1280 {
                    component = .openCLIP
                }
                return Assignment(component: component, namespace: namespace.prefix)
            }
            if let hint = checkpoint.componentFolderHint {
                return Assignment(component: folderComponent(hint, width: widths[""]), namespace: "")
            }
            return Assignment(component: bare.component(of: key, widths: widths), namespace: "")
        }
    }

    /// The known prefix a single-file key starts with, as spelled in the key, and its component.
    static func namespace(of key: String) -> (prefix: String, component: Component)? {
        let index = NamespaceIndex.shared
        if let found = index.entry(of: key) { return (found.prefix, found.entry.component) }
        if let ema = index.flatEMAPrefix(of: key) { return (ema, .ema) }
        return nil
    }

    /// The component of a diffusers folder (or of a lone file's folder), given the width of
    /// the CLIP text model it holds, if it holds one.
    func folderComponent(_ folder: String, width: Int?) -> Component {
        let index = NamespaceIndex.shared
        let entry = index.folders[folder]
        if let entry, entry.part != .textEncoder { return entry.component }
        if index.isEMAFolder(folder) { return .ema }
        guard let entry else { return .other }
        // A CLIP model shows by its token embedding, or (pruned) by its config's class.
        let isCLIP = width != nil || (checkpoint.componentClasses[folder]?.hasPrefix("CLIPText") ?? false)
        guard isCLIP else { return .other }
        if entry.component == .clipL, let width, width == 1024 || width == 1280 { return .openCLIP }
        return entry.component
    }

    /// The width of each CLIP text model, by namespace (`te.`, `text_encoder/`; `""` for bare keys):
    /// the second dimension of its token embedding.
    ///
    /// Namespaces without a CLIP token embedding (T5, a VAE) have no entry.
    func textModelWidths() -> [String: Int] {
        var widths: [String: Int] = [:]
        for tensor in checkpoint.tensors where tensor.key.hasSuffix("token_embedding.weight") {
            let key = tensor.key
            let local: Substring
            let namespace: String
            if let folder = tensor.folder {
                namespace = folder + "/"
                local = Substring(key)
            } else if let found = ComponentClassifier.namespace(of: key) {
                namespace = found.prefix
                local = key.dropFirst(found.prefix.count)
            } else {
                namespace = ""
                local = Substring(key)
            }
            guard local == "text_model.embeddings.token_embedding.weight" || local == "embeddings.token_embedding.weight"
                    || local == "token_embedding.weight", tensor.info.shape.count == 2 else { continue }
            widths[namespace] = tensor.info.shape[1]
        }
        return widths
    }

    /// The component of a LoRA / LyCORIS tensor, from the module it adapts.
    func adapterComponent(_ key: String) -> Component {
        if key.hasPrefix("lora_unet_") || key.hasPrefix("lycoris_") { return .unet }
        if key.hasPrefix("lora_te2_") || key.hasPrefix("text_encoder_2.") || key.hasPrefix("text_encoders.clip_g.") {
            return .openCLIP
        }
        if key.hasPrefix("lora_te1_") || key.hasPrefix("lora_te_") || key.hasPrefix("text_encoder.")
            || key.hasPrefix("text_encoders.clip_l.") || key.hasPrefix("text_model.") {
            return .clipL
        }
        if key.hasPrefix("text_encoders.") || key.hasPrefix("bundle_emb.") { return .other }
        // PEFT and ComfyUI name the denoiser `unet.`, `transformer.`, `diffusion_model.` or not at all.
        return .unet
    }
}

/// Tells the component of keys under no known prefix: a lone component file saved without
/// its folder, or an original Stable Cascade file.
struct BareKeys {
    /// Whether the file has a denoiser's signature, so that unrecognised bare keys are its own.
    let hasDenoiser: Bool

    init(_ checkpoint: Checkpoint) {
        let signatures = ["conv_in.weight", "input_blocks.0.0.weight", "clf.1.weight", "x_embedder.weight",
                          "x_embedder.proj.weight", "img_in.weight", "pos_embed.proj.weight", "time_embedding.linear_1.weight"]
        var found = false
        for tensor in checkpoint.tensors where tensor.folder == nil && signatures.contains(tensor.key) {
            found = true
            break
        }
        hasDenoiser = found
    }

    /// The component of a bare key.
    func component(of key: String, widths: [String: Int]) -> Component {
        if key.hasPrefix("encoder.layers.") || key.hasPrefix("text_model.") || key.hasPrefix("embeddings.")
            || key.hasPrefix("final_layer_norm.") || key.hasPrefix("text_projection") {
            let width = widths[""]
            return width == 1024 || width == 1280 ? .openCLIP : .clipL
        }
        if key.hasPrefix("transformer.resblocks.") || key == "token_embedding.weight" || key == "positional_embedding"
            || key.hasPrefix("ln_final.") || key == "logit_scale" {
            return .openCLIP
        }
        if key.hasPrefix("encoder.block.") || key.hasPrefix("decoder.block.") || key == "shared.weight" {
            return .other  // T5
        }
        if key.hasPrefix("quant_conv.") || key.hasPrefix("post_quant_conv.") || key.hasPrefix("encoder.") || key.hasPrefix("decoder.") {
            return .vae
        }
        return hasDenoiser ? .unet : .other
    }
}
