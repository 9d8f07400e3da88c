/// Keys that exist in one layout only and are not model weights (checkpoint-formats §7), as
/// sets read from the layouts' ``KeyNamespace/layoutOnly`` lists in ``KeyNamespaces``.
enum SpecialKeys {
    /// The noise-schedule buffers LDM/SGM originals carry and OneTrainer always writes (top level, [1000] F32).
    static let scheduleBuffers: Set<String> = NamespaceIndex.shared.exactKeys(.scheduleBuffer)

    /// Marker tensors: ComfyUI/OneTrainer prediction flags and Playground v2.5's EDM statistics.
    static let markers: Set<String> = NamespaceIndex.shared.exactKeys(.marker)

    /// Last key components of buffers one layout keeps and another drops: CLIP's `position_ids`
    /// (optional everywhere) and OpenCLIP's `logit_scale`.
    static let layoutOnlyLeaves: Set<Substring> = NamespaceIndex.shared.leaves(.layoutOnly)

    /// The diffusers `text_encoder` of SD2 keeps 23 of ViT-H's 24 layers.
    static let sd2DiffusersLayers = 23

    /// Whether a key's last component is one of ``layoutOnlyLeaves``.
    static func isLayoutOnly(_ key: String) -> Bool {
        let last = key.split(separator: ".").last ?? Substring(key)
        return layoutOnlyLeaves.contains(last)
    }
}
