/// The keys and shapes of one part of a checkpoint (a prefix stripped), for detecting
/// its architecture parameters.
struct KeyShapes: Sendable {
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
