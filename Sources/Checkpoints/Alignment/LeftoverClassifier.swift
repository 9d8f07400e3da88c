/// Says why a tensor has no counterpart on the other side (checkpoint-formats §6-§9).
struct LeftoverClassifier {
    /// The side the tensor is on.
    let checkpoint: Checkpoint
    let scheme: KeyScheme
    /// The other side's scheme.
    let other: KeyScheme

    init(_ checkpoint: Checkpoint, scheme: KeyScheme, other: KeyScheme) {
        self.checkpoint = checkpoint
        self.scheme = scheme
        self.other = other
    }

    /// The component and class of a tensor with no counterpart.
    ///
    /// In order: the EMA `decay` and `num_updates` scalars when the other side has an EMA copy
    /// (layout-only: diffusers keeps them in `unet_ema/config.json`); EMA copies (`model_ema.*`, `unet_ema/`); the 12 schedule buffers; markers
    /// (`v_pred`, `ztsnr`, `edm_vpred.*`, `edm_mean`/`edm_std`); layout-only buffers
    /// (`position_ids`, `logit_scale`); placeholders (SD2's 24th layer against a 23-layer
    /// encoder, SD2's `text_projection` against a 23-layer encoder without one); keys some SDXL files prune when the other side
    /// has the encoder without them (CLIP-L's last layer and final norm, bigG's last layer,
    /// final norm and projection); other known model tensors (a real gap); the rest unknown.
    func classify(_ index: Int) -> (component: Component, kind: LeftoverClass) {
        let tensor = checkpoint.tensors[index]
        let targets = scheme.targets[index]
        let component = targets.first?.component ?? .other
        let key = tensor.key
        // The EMA settings against an EMA copy that keeps them elsewhere (`unet_ema/config.json`).
        if tensor.folder == nil && (key == EMAKey.decay || key == EMAKey.numUpdates) && other.hasEMA {
            return (.ema, .layoutOnly)
        }
        let inEMAFolder = tensor.folder.map { SchemeResolver.namespace(ofFolder: $0) == .ema } ?? false
        if key.hasPrefix(EMAKey.prefix) || inEMAFolder || component == .ema {
            return (.ema, .ema)
        }
        if tensor.folder == nil && SpecialKeys.scheduleBuffers.contains(key) { return (.other, .scheduleBuffer) }
        if tensor.folder == nil && SpecialKeys.markers.contains(key) { return (.other, .marker) }
        if SpecialKeys.isLayoutOnly(key) { return (component, .layoutOnly) }
        guard let target = targets.first else { return (.other, .unknown) }

        let (folder, canonicalKey) = KeyScheme.split(target.canonical)
        if folder.hasPrefix("text_encoder"), let mine = scheme.encoders[folder], let theirs = other.encoders[folder] {
            let layer = TextEncoderConfig.layerIndex(of: canonicalKey)
            let isProjection = canonicalKey == "text_projection.weight"
            // SD2: diffusers keeps 23 of ViT-H's 24 layers and no projection; converters fill them in.
            if folder == "text_encoder", theirs.layers == SpecialKeys.sd2DiffusersLayers,
               (layer ?? -1) >= SpecialKeys.sd2DiffusersLayers || (isProjection && !theirs.hasProjection) {
                return (component, .placeholder)
            }
            if scheme.looksLikeSDXL || other.looksLikeSDXL {
                let last = layer == mine.layers - 1 && layer == theirs.layers
                let finalNorm = canonicalKey.hasPrefix("text_model.final_layer_norm.")
                let prunable = folder == "text_encoder" ? (last || finalNorm) : (last || finalNorm || isProjection)
                if prunable { return (component, .optional) }
            }
        }
        return (component, .weight)
    }
}
