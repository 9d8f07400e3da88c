extension Alignment {
    /// Aligns two checkpoints in any layouts (diffusers folders, LDM/SGM single files,
    /// kohya-flattened files, lone component files) through canonical keys; see ``Aligner``.
    ///
    /// Checkpoints in the same layout pair by name; leftovers are classed (EMA copies,
    /// schedule buffers, markers, layout-only buffers, placeholders, pruned optional keys,
    /// real weight gaps, unknown keys).
    public static func aligning(_ a: Checkpoint, _ b: Checkpoint) -> Alignment {
        Aligner(a, b).alignment()
    }

    /// Aligns two checkpoints with the selected sides' EMA copies standing for their UNets.
    ///
    /// - Throws: ``CheckpointError`` naming the checkpoint when a selected side has no EMA copy.
    public static func aligning(_ a: Checkpoint, _ b: Checkpoint, ema: EMASelection) throws(CheckpointError) -> Alignment {
        try Aligner(a, b, ema: ema).alignment()
    }
}
