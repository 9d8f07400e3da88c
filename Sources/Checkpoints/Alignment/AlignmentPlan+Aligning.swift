extension AlignmentPlan {
    /// Aligns two checkpoints in any layouts (diffusers folders, LDM/SGM single files,
    /// kohya-flattened files, lone component files) through canonical keys; see ``Aligner``.
    ///
    /// Checkpoints in the same layout pair by name; leftovers are classed (EMA copies,
    /// schedule buffers, markers, layout-only buffers, placeholders, pruned optional keys,
    /// real weight gaps, unknown keys).
    public static func aligning(_ a: Checkpoint, _ b: Checkpoint) -> AlignmentPlan {
        Aligner(a, b).plan()
    }
}
