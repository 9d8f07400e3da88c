/// The blocks of one component, indexed both ways: the generated data behind a mapping table.
///
/// Built from architecture parameters (``UNetConfig``, ``VAEConfig``,
/// ``TextEncoderConfig``); it translates an original key to its diffusers key(s) and
/// back by finding the longest block prefix and renaming the leaf.
struct BlockMap: Sendable {
    /// The blocks, in enumeration order.
    let blocks: [BlockPair]
    private let byOriginal: [String: Int]
    private let byDiffusers: [String: Int]

    init(_ blocks: [BlockPair]) {
        self.blocks = blocks
        var byOriginal: [String: Int] = [:]
        var byDiffusers: [String: Int] = [:]
        for (index, block) in blocks.enumerated() {
            if byOriginal[block.original] == nil { byOriginal[block.original] = index }
            if byDiffusers[block.diffusers] == nil { byDiffusers[block.diffusers] = index }
        }
        for (index, block) in blocks.enumerated() {
            for alias in block.originalAliases where byOriginal[alias] == nil { byOriginal[alias] = index }
        }
        self.byOriginal = byOriginal
        self.byDiffusers = byDiffusers
    }

    /// One resolved tensor: a full key on the other side, with how it lines up.
    struct Resolved: Sendable, Hashable {
        /// The key in the other naming.
        var key: String
        /// How the original tensor lines up with the diffusers one.
        var transform: PairTransform
        /// The rows of the original tensor that hold the diffusers one.
        var part: RowPart?
    }

    /// The diffusers keys an original key holds (three for a fused q/k/v tensor), or empty.
    func diffusers(forOriginal key: String) -> [Resolved] {
        for prefix in BlockMap.prefixes(of: key) {
            guard let index = byOriginal[prefix] else { continue }
            let block = blocks[index]
            let leaf = String(key.dropFirst(prefix.count))
            let found = block.kind.diffusersLeaves(forOriginal: leaf)
            if !found.isEmpty {
                return found.map { Resolved(key: block.diffusers + $0.diffusers, transform: $0.transform, part: $0.part) }
            }
        }
        return []
    }

    /// The original key that holds a diffusers key, or nil if this map has no such block or leaf.
    func original(forDiffusers key: String) -> Resolved? {
        for prefix in BlockMap.prefixes(of: key) {
            guard let index = byDiffusers[prefix] else { continue }
            let block = blocks[index]
            let leaf = String(key.dropFirst(prefix.count))
            if let pair = block.kind.originalLeaf(forDiffusers: leaf) {
                return Resolved(key: block.original + pair.original, transform: pair.transform, part: pair.part)
            }
        }
        return nil
    }

    /// Every (original, diffusers) leaf the blocks hold, in order.
    func enumerated() -> [(original: String, diffusers: String, transform: PairTransform, part: RowPart?)] {
        blocks.flatMap { block in
            block.kind.leaves.map { (block.original + $0.original, block.diffusers + $0.diffusers, $0.transform, $0.part) }
        }
    }

    /// The prefixes of `key` that end at a dot, longest first, then the empty prefix.
    static func prefixes(of key: String) -> [String] {
        var result: [String] = []
        var index = key.endIndex
        while index > key.startIndex {
            index = key.index(before: index)
            if key[index] == "." { result.append(String(key[...index])) }
        }
        result.append("")
        return result
    }
}
