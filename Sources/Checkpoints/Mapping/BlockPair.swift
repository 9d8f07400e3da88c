/// A block of a model as the original layout and diffusers address it.
///
/// Prefixes end with a dot (`input_blocks.4.1.` ⇄ `down_blocks.1.attentions.0.`),
/// or are empty for top-level tensors.
struct BlockPair: Sendable, Hashable {
    /// The block's prefix in the original naming.
    var original: String
    /// The block's prefix in diffusers naming (the canonical one).
    var diffusers: String
    /// What the block holds.
    var kind: BlockKind
    /// Other original prefixes some writers use for the same block (read, never written).
    var originalAliases: [String] = []

    init(_ original: String, _ diffusers: String, _ kind: BlockKind, aliases: [String] = []) {
        self.original = original
        self.diffusers = diffusers
        self.kind = kind
        self.originalAliases = aliases
    }
}
