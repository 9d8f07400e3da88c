/// What architecture detection asks of a component's keys and shapes.
protocol KeyShapeProbe {
    /// Whether the key is present.
    func has(_ key: String) -> Bool
    /// The shape of a key, if present.
    func shape(_ key: String) -> [Int]?
    /// How many consecutive numbers from 0 follow `prefix` (`count("input_blocks.")`).
    func count(_ prefix: String) -> Int
}

/// The keys and shapes of one part of a checkpoint (a prefix stripped), for detecting
/// its architecture parameters.
struct KeyShapes: KeyShapeProbe, Sendable {
    /// Shape by key.
    let shapes: [String: [Int]]
    /// For each prefix that a numeric key component follows (`input_blocks.`,
    /// `input_blocks.4.1.transformer_blocks.`), the numbers that follow it.
    private let numbers: [String: Set<Int>]

    init<S: Sequence>(_ entries: S) where S.Element == (key: String, shape: [Int]) {
        var shapes: [String: [Int]] = [:]
        var numbers: [String: Set<Int>] = [:]
        for (key, shape) in entries {
            if shapes[key] == nil { shapes[key] = shape }
            var start = key.startIndex
            while start < key.endIndex {
                let end = key[start...].firstIndex(of: ".") ?? key.endIndex
                if start < end, key[start..<end].allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int(key[start..<end]) {
                    numbers[String(key[..<start]), default: []].insert(value)
                }
                start = end < key.endIndex ? key.index(after: end) : end
            }
        }
        self.shapes = shapes
        self.numbers = numbers
    }

    /// Whether the key is present.
    func has(_ key: String) -> Bool { shapes[key] != nil }

    /// The shape of a key, if present.
    func shape(_ key: String) -> [Int]? { shapes[key] }

    /// How many consecutive numbers from 0 follow `prefix` (`count("input_blocks.")`), as
    /// ComfyUI's `count_blocks` counts them.
    func count(_ prefix: String) -> Int {
        guard let present = numbers[prefix] else { return 0 }
        var n = 0
        while present.contains(n) { n += 1 }
        return n
    }
}

/// The keys and shapes of an LDM UNet read through LitEma's dot-stripped EMA names
/// (`diffusion_modelinput_blocks11proj_inweight`), for detecting its parameters when the
/// file holds the EMA copy but no live UNet to build the names from.
///
/// Each question is asked of the dot-stripped form of the LDM key: LDM UNet keys always
/// put a block number and a sub-module number after `input_blocks`/`output_blocks` and a
/// name after `transformer_blocks.N`, so the stripped forms the detector asks for do not
/// collide in a UNet's key set. The parameters found are checked by the caller: only EMA
/// names the resulting map builds forward are resolved.
struct FlatKeyShapes: KeyShapeProbe, Sendable {
    /// Shape by dot-stripped key (without the EMA prefix and the stripped wrapper name).
    private let shapes: [String: [Int]]

    /// Reads `entries` (EMA keys with their prefix removed); `stripped` (`diffusion_model`) is
    /// removed where a key starts with it, so both LitEma spellings are read.
    init<S: Sequence>(_ entries: S, stripped: String) where S.Element == (key: String, shape: [Int]) {
        var shapes: [String: [Int]] = [:]
        for (key, shape) in entries {
            let flat = key.hasPrefix(stripped) ? String(key.dropFirst(stripped.count)) : key
            if shapes[flat] == nil { shapes[flat] = shape }
        }
        self.shapes = shapes
    }

    /// The dot-stripped form of an LDM key.
    private static func flat(_ key: String) -> String { key.filter { $0 != "." } }

    func has(_ key: String) -> Bool { shapes[FlatKeyShapes.flat(key)] != nil }

    func shape(_ key: String) -> [Int]? { shapes[FlatKeyShapes.flat(key)] }

    func count(_ prefix: String) -> Int {
        let head = FlatKeyShapes.flat(prefix)
        var n = 0
        while shapes.keys.contains(where: { $0.hasPrefix(head + String(n)) }) { n += 1 }
        return n
    }
}
