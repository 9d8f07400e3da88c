/// Turns the object a PyTorch file holds into named tensors the way users name them.
///
/// * A dict with a `state_dict` dict (Lightning and the original Stable Diffusion `.ckpt`
///   files: `{"state_dict": {...}, "global_step": ...}`) is read as that state dict; the
///   optimizer states and callbacks beside it are not weights and are skipped.
/// * Anything else is walked whole: dict keys and list positions are joined with `.`
///   (OneTrainer's `ema/ema.pt`, `{"decay": 0.999, "ema_parameters": [t0, t1, ...]}`, gives
///   `ema_parameters.0`, `ema_parameters.1`, …). A file holding one tensor names it `tensor`.
///
/// Scalars (ints, floats, strings, bools) at the top level become metadata; other non-tensor
/// values are ignored. Nesting, cycles and shared sub-objects are bounded: a container that
/// contains itself is refused, and so is a walk deeper than ``maximumDepth``, longer than
/// ``maximumVisits`` (a pickle can share one list many times over, which a naive walk would
/// expand exponentially), or one whose names add up to more than ``maximumNameBytes`` (a long
/// dict key over a list of memo references repeats the key in every name below it).
struct StateDictFlattener {
    static let maximumDepth = 100
    static let maximumVisits = 4_000_000
    static let maximumMetadataEntries = 1_000
    /// The most bytes of flattened names built in one walk, 64 MiB: every name of a container
    /// or tensor counts, kept or not. The names of a real state dict (SDXL's 2,500 tensors, a
    /// full training checkpoint's tens of thousands) add up to a few MB at most.
    static let maximumNameBytes = 64 << 20

    let objects: [PickleObject]
    let path: String
    /// Tensors as (name, object index), in the order the file lists them.
    private(set) var tensors: [(name: String, object: Int)] = []
    private(set) var metadata: [(key: String, value: String)] = []
    private var visits = 0
    /// The bytes of the names built so far (see ``maximumNameBytes``).
    private(set) var nameBytes = 0
    private var ancestors = Set<Int>()

    init(objects: [PickleObject], path: String) {
        self.objects = objects
        self.path = path
    }

    mutating func flatten(_ root: PickleValue) throws(TorchPickleError) {
        if case .object(let i) = root, case .dict(let pairs) = objects[i] {
            if let stateDict = pairs.first(where: { Self.isString($0.key, "state_dict") })?.value,
               case .object(let s) = stateDict, case .dict = objects[s] {
                for (key, value) in pairs { addMetadata(key, value) }
                ancestors.insert(i)
                try walk(stateDict, name: "", depth: 1)
                return
            }
            for (key, value) in pairs { addMetadata(key, value) }
        }
        try walk(root, name: "", depth: 0)
    }

    private static func isString(_ value: PickleValue, _ text: String) -> Bool {
        if case .string(let s) = value { return s == text }
        return false
    }

    private mutating func addMetadata(_ key: PickleValue, _ value: PickleValue) {
        guard metadata.count < Self.maximumMetadataEntries, let keyText = Self.keyText(key), let text = Self.scalarText(value) else { return }
        metadata.append((PickleMachine.printable(keyText), PickleMachine.printable(text)))
    }

    /// The text of a dict key that can be part of a name.
    private static func keyText(_ key: PickleValue) -> String? {
        switch key {
        case .string(let s): return s
        case .int(let n): return String(n)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        default: return nil
        }
    }

    /// The text of a scalar, Python-style, or nil for anything else.
    private static func scalarText(_ value: PickleValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let n): return String(n)
        case .float(let d): return String(d)
        case .bool(let b): return b ? "True" : "False"
        default: return nil
        }
    }

    private mutating func walk(_ value: PickleValue, name: String, depth: Int) throws(TorchPickleError) {
        guard case .object(let i) = value else { return }
        visits += 1
        guard visits <= Self.maximumVisits else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "the pickle's containers expand to more than \(Self.maximumVisits) entries"))
        }
        guard depth <= Self.maximumDepth else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "containers are nested more than \(Self.maximumDepth) deep (at '\(PickleMachine.printable(name))')"))
        }
        switch objects[i] {
        case .tensor:
            tensors.append((name.isEmpty ? "tensor" : name, i))
        case .dict(let pairs):
            guard ancestors.insert(i).inserted else { throw cycle(name) }
            for (position, pair) in pairs.enumerated() {
                guard case .object = pair.value else { continue }
                try walk(pair.value, name: child(name, Self.keyText(pair.key) ?? "<key \(position)>"), depth: depth + 1)
            }
            ancestors.remove(i)
        case .list(let items), .tuple(let items):
            guard ancestors.insert(i).inserted else { throw cycle(name) }
            for (position, item) in items.enumerated() {
                guard case .object = item else { continue }
                try walk(item, name: child(name, String(position)), depth: depth + 1)
            }
            ancestors.remove(i)
        case .set, .storage:
            return
        }
    }

    /// `name.key` (or `key` at the top), counted against ``maximumNameBytes`` before it is built.
    private mutating func child(_ name: String, _ key: String) throws(TorchPickleError) -> String {
        let added = name.isEmpty ? key.utf8.count : name.utf8.count + 1 + key.utf8.count
        nameBytes += added
        guard nameBytes <= Self.maximumNameBytes else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "the pickle's flattened names add up to more than \(Self.maximumNameBytes) bytes (a long key repeated over shared containers, at '\(PickleMachine.printable(name))')"))
        }
        return name.isEmpty ? key : name + "." + key
    }

    private func cycle(_ name: String) -> TorchPickleError {
        TorchPickleError(file: path, kind: .limitExceeded(
            "a container contains itself (at '\(PickleMachine.printable(name.isEmpty ? "<root>" : name))')"))
    }
}
