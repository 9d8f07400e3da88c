import Safetensors

/// A restricted unpickler: it interprets the pickle opcodes a PyTorch state dict is written with
/// and builds plain values, storages and tensors, executing nothing.
///
/// Globals are never looked up: `GLOBAL` and `STACK_GLOBAL` map a `module.name` pair to one of
/// the few ``TorchGlobal``s or refuse the file naming the pair. `REDUCE` "calls" only those,
/// interpreting their arguments as data. Opcodes that build arbitrary objects (`NEWOBJ`, `INST`,
/// `OBJ`, extension codes, out-of-band buffers) are refused. Every size the stream declares is
/// checked against the bytes that remain, and the stack, memo and object table together are
/// capped (``maximumCells``), so a hostile stream costs at most a bounded multiple of its length
/// and a fixed ceiling, and it ends at its last byte at the latest: there are no loops.
struct PickleMachine {
    /// The most stack entries, memo entries and container items held at once (about 32 bytes each, so about 130 MB at most).
    static let maximumCells = 4_000_000
    /// The most dimensions a tensor may have.
    static let maximumRank = 64

    private let bytes: [UInt8]
    private let path: String
    private(set) var position: Int
    /// Set when the stream ran past the end of the buffer (the caller may retry with more bytes).
    private(set) var ranOut = false

    private(set) var objects: [PickleObject] = []
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [UInt32: PickleValue] = [:]
    private var cells = 0
    /// Storage objects by key, so every persistent id of one key is one storage.
    private var storageByKey: [String: Int] = [:]
    /// Whether persistent ids may carry the legacy format's sixth field (a storage view).
    private let legacyPersistentIDs: Bool

    init(bytes: [UInt8], startingAt position: Int = 0, path: String, legacyPersistentIDs: Bool = false) {
        self.bytes = bytes
        self.position = position
        self.path = path
        self.legacyPersistentIDs = legacyPersistentIDs
    }

    func invalid(_ detail: String) -> TorchPickleError {
        TorchPickleError(file: path, kind: .invalidPickle(detail))
    }

    /// Runs the stream to its `STOP` and returns the value it leaves.
    mutating func run() throws(TorchPickleError) -> PickleValue {
        while true {
            let at = position
            let op = try byte()
            switch op {
            case 0x80: // PROTO
                let version = try byte()
                guard version <= 5 else { throw invalid("pickle protocol \(version) at byte \(at) is unknown") }
            case 0x95: // FRAME: a length hint for buffering; every read is bounds-checked anyway
                _ = try integer(8)
            case 0x2E: // STOP
                guard stack.count == 1, marks.isEmpty else {
                    throw invalid("STOP at byte \(at) leaves \(stack.count) values and \(marks.count) marks")
                }
                return stack[0]
            case 0x28: // MARK
                try grow()
                marks.append(stack.count)
            case 0x30: // POP
                if let mark = marks.last, mark == stack.count { marks.removeLast() } else { _ = try pop() }
            case 0x31: // POP_MARK
                _ = try popToMark()
            case 0x32: // DUP
                try push(try top())
            case 0x4E: try push(.none) // NONE
            case 0x88: try push(.bool(true)) // NEWTRUE
            case 0x89: try push(.bool(false)) // NEWFALSE
            case 0x4A: // BININT
                try push(.int(Int64(Int32(bitPattern: UInt32(try integer(4))))))
            case 0x4B: try push(.int(Int64(try integer(1)))) // BININT1
            case 0x4D: try push(.int(Int64(try integer(2)))) // BININT2
            case 0x8A: // LONG1
                try push(try long(count: Int(try integer(1))))
            case 0x8B: // LONG4
                let count = Int32(bitPattern: UInt32(try integer(4)))
                guard count >= 0 else { throw invalid("LONG4 at byte \(at) has a negative length") }
                try push(try long(count: Int(count)))
            case 0x47: // BINFLOAT (big-endian)
                var bits: UInt64 = 0
                for b in try take(8) { bits = bits << 8 | UInt64(b) }
                try push(.float(Double(bitPattern: bits)))
            case 0x58: try push(.string(try text(count: try integer(4)))) // BINUNICODE
            case 0x8C: try push(.string(try text(count: try integer(1)))) // SHORT_BINUNICODE
            case 0x8D: try push(.string(try text(count: try integer(8)))) // BINUNICODE8
            case 0x54: try push(.string(try latin1(count: try integer(4)))) // BINSTRING
            case 0x55: try push(.string(try latin1(count: try integer(1)))) // SHORT_BINSTRING
            case 0x42: try push(.bytes(try skip(count: try integer(4)))) // BINBYTES
            case 0x43: try push(.bytes(try skip(count: try integer(1)))) // SHORT_BINBYTES
            case 0x8E, 0x96: try push(.bytes(try skip(count: try integer(8)))) // BINBYTES8, BYTEARRAY8
            case 0x29: try push(try make(.tuple([]))) // EMPTY_TUPLE
            case 0x74: try push(try make(.tuple(try popToMark()))) // TUPLE
            case 0x85, 0x86, 0x87: // TUPLE1..3
                let n = Int(op - 0x84)
                guard stack.count - (marks.last ?? 0) >= n else { throw invalid("TUPLE\(n) at byte \(at) finds too few values") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                try push(try make(.tuple(items)))
            case 0x5D: try push(try make(.list([]))) // EMPTY_LIST
            case 0x6C: try push(try make(.list(try popToMark()))) // LIST
            case 0x7D: try push(try make(.dict([]))) // EMPTY_DICT
            case 0x64: // DICT
                let items = try popToMark()
                let object = try make(.dict([]))
                try setItems(items, into: object, at: at)
                try push(object)
            case 0x8F: try push(try make(.set)) // EMPTY_SET
            case 0x91: _ = try popToMark(); try push(try make(.set)) // FROZENSET
            case 0x90: // ADDITEMS
                _ = try popToMark()
                guard case .object(let i) = try top(), case .set = objects[i] else { throw invalid("ADDITEMS at byte \(at) is not on a set") }
            case 0x61: // APPEND
                let item = try pop()
                try append([item], to: try top(), at: at)
            case 0x65: // APPENDS
                let items = try popToMark()
                try append(items, to: try top(), at: at)
            case 0x73: // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems([key, value], into: try top(), at: at)
            case 0x75: // SETITEMS
                let items = try popToMark()
                try setItems(items, into: try top(), at: at)
            case 0x71: try put(UInt32(try integer(1))) // BINPUT
            case 0x72: try put(UInt32(try integer(4))) // LONG_BINPUT
            case 0x94: try put(UInt32(truncatingIfNeeded: memo.count)) // MEMOIZE
            case 0x68: try get(UInt32(try integer(1)), at: at) // BINGET
            case 0x6A: try get(UInt32(try integer(4)), at: at) // LONG_BINGET
            case 0x63: // GLOBAL
                let module = try line()
                let name = try line()
                try push(.global(try global(module: module, name: name)))
            case 0x93: // STACK_GLOBAL
                let nameValue = try pop()
                let moduleValue = try pop()
                guard case .string(let name) = nameValue, case .string(let module) = moduleValue else {
                    throw invalid("STACK_GLOBAL at byte \(at) is not given two strings")
                }
                try push(.global(try global(module: module, name: name)))
            case 0x52: // REDUCE
                let arguments = try pop()
                let callable = try pop()
                try push(try reduce(callable, arguments, at: at))
            case 0x62: // BUILD: state of an OrderedDict (its _metadata) or a parameter; ignored.
                _ = try pop()
                guard case .object = try top() else { throw invalid("BUILD at byte \(at) on \(try top().typeName)") }
            case 0x51: // BINPERSID
                try push(try persistentLoad(try pop(), at: at))
            case 0x69, 0x6F, 0x81, 0x92: // INST, OBJ, NEWOBJ, NEWOBJ_EX
                throw try objectBuildingRefusal(op, at: at)
            case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4
                throw TorchPickleError(file: path, kind: .forbiddenGlobal("copyreg extension code (opcode 0x\(String(op, radix: 16)))"))
            default:
                throw invalid("opcode 0x\(String(op, radix: 16)) at byte \(at) is not used by torch.save state dicts")
            }
        }
    }

    // MARK: Reading

    private mutating func truncated() -> TorchPickleError {
        ranOut = true
        return invalid("the pickle ends at byte \(bytes.count) before its STOP opcode")
    }

    private mutating func byte() throws(TorchPickleError) -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func integer(_ count: Int) throws(TorchPickleError) -> UInt64 {
        guard bytes.count - position >= count else { throw truncated() }
        var value: UInt64 = 0
        for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes[position + i]) }
        position += count
        return value
    }

    /// Checks that `count` declared bytes remain before trusting the count.
    private mutating func reserve(_ count: UInt64) throws(TorchPickleError) -> Range<Int> {
        guard count <= UInt64(bytes.count - position) else { throw truncated() }
        let range = position..<position + Int(count)
        position += Int(count)
        return range
    }

    private mutating func take(_ count: Int) throws(TorchPickleError) -> ArraySlice<UInt8> {
        bytes[try reserve(UInt64(count))]
    }

    private mutating func skip(count: UInt64) throws(TorchPickleError) -> Int {
        try reserve(count).count
    }

    private mutating func text(count: UInt64) throws(TorchPickleError) -> String {
        let range = try reserve(count)
        guard let string = String(validating: bytes[range], as: UTF8.self) else {
            throw invalid("a string at byte \(range.lowerBound) is not UTF-8")
        }
        return string
    }

    private mutating func latin1(count: UInt64) throws(TorchPickleError) -> String {
        let range = try reserve(count)
        return String(String.UnicodeScalarView(bytes[range].map { Unicode.Scalar($0) }))
    }

    /// A newline-terminated line (GLOBAL's module and name), at most 1,000 bytes.
    private mutating func line() throws(TorchPickleError) -> String {
        let start = position
        while true {
            let b = try byte()
            if b == 0x0A { break }
            guard position - start <= 1_000 else { throw invalid("a GLOBAL name at byte \(start) is over 1,000 bytes") }
        }
        return String(decoding: bytes[start..<position - 1], as: UTF8.self)
    }

    /// A little-endian two's-complement integer of `count` bytes; wider than 64 bits is kept as ``PickleValue/bigInt``.
    private mutating func long(count: Int) throws(TorchPickleError) -> PickleValue {
        let digits = try take(count)
        guard count <= 8 else { return .bigInt }
        guard count > 0 else { return .int(0) }
        var value: UInt64 = 0
        for b in digits.reversed() { value = value << 8 | UInt64(b) }
        if count < 8, let last = digits.last, last & 0x80 != 0 {
            value |= ~0 << UInt64(count * 8)
        }
        return .int(Int64(bitPattern: value))
    }

    // MARK: Stack, memo, objects

    private mutating func grow(_ n: Int = 1) throws(TorchPickleError) {
        cells += n
        guard cells <= Self.maximumCells else {
            throw TorchPickleError(file: path, kind: .limitExceeded(
                "the pickle holds more than \(Self.maximumCells) values at once (stack, memo and containers)"))
        }
    }

    private mutating func push(_ value: PickleValue) throws(TorchPickleError) {
        try grow()
        stack.append(value)
    }

    private mutating func pop() throws(TorchPickleError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else {
            throw invalid("a value is popped at byte \(position - 1) from an empty stack")
        }
        stack.removeLast()
        cells -= 1
        return value
    }

    private func top() throws(TorchPickleError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else {
            throw invalid("opcode at byte \(position - 1) needs a value and the stack is empty")
        }
        return value
    }

    private mutating func popToMark() throws(TorchPickleError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw invalid("opcode at byte \(position - 1) finds no MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        cells -= items.count + 1
        return items
    }

    private mutating func make(_ object: PickleObject) throws(TorchPickleError) -> PickleValue {
        try grow()
        objects.append(object)
        return .object(objects.count - 1)
    }

    private mutating func put(_ index: UInt32) throws(TorchPickleError) {
        let value = try top()
        if memo.updateValue(value, forKey: index) == nil { try grow() }
    }

    private mutating func get(_ index: UInt32, at: Int) throws(TorchPickleError) {
        guard let value = memo[index] else { throw invalid("memo entry \(index) fetched at byte \(at) was never stored") }
        try push(value)
    }

    private mutating func append(_ items: [PickleValue], to target: PickleValue, at: Int) throws(TorchPickleError) {
        guard case .object(let i) = target, case .list(var list) = objects[i] else {
            throw invalid("APPEND at byte \(at) is not on a list")
        }
        try grow(items.count)
        objects[i] = .tuple([]) // release the list's buffer so the append below does not copy it
        list.append(contentsOf: items)
        objects[i] = .list(list)
    }

    private mutating func setItems(_ items: [PickleValue], into target: PickleValue, at: Int) throws(TorchPickleError) {
        guard case .object(let i) = target, case .dict(var pairs) = objects[i] else {
            throw invalid("SETITEMS at byte \(at) is not on a dict")
        }
        guard items.count % 2 == 0 else { throw invalid("SETITEMS at byte \(at) has an odd number of values") }
        try grow(items.count)
        objects[i] = .tuple([])
        var k = 0
        while k < items.count {
            pairs.append((items[k], items[k + 1]))
            k += 2
        }
        objects[i] = .dict(pairs)
    }

    // MARK: Globals and calls

    private func global(module: String, name: String) throws(TorchPickleError) -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw TorchPickleError(file: path, kind: .forbiddenGlobal(Self.printable("\(module).\(name)")))
        }
        return global
    }

    /// Builds the refusal for an opcode that instantiates a class, naming the class when the stream does.
    private mutating func objectBuildingRefusal(_ op: UInt8, at: Int) throws(TorchPickleError) -> TorchPickleError {
        if op == 0x69 { // INST module\nname\n
            let module = try line()
            let name = try line()
            return TorchPickleError(file: path, kind: .forbiddenGlobal(Self.printable("\(module).\(name)")))
        }
        let opName = [0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX"][Int(op)] ?? "?"
        return invalid("\(opName) at byte \(at) instantiates a class, which a state dict never does")
    }

    /// Keeps a name from the file printable and short, for a one-line message.
    ///
    /// The shared rule of every reader (``Printable/text(_:limit:)``): control characters,
    /// line breaks and bidirectional overrides become `?`, and the text is cut at 200 scalars.
    static func printable(_ text: String) -> String {
        Printable.text(text)
    }

    private func tupleItems(_ value: PickleValue) -> [PickleValue]? {
        guard case .object(let i) = value else { return nil }
        switch objects[i] {
        case .tuple(let items), .list(let items): return items
        default: return nil
        }
    }

    private mutating func reduce(_ callable: PickleValue, _ arguments: PickleValue, at: Int) throws(TorchPickleError) -> PickleValue {
        guard case .global(let function) = callable else {
            throw invalid("REDUCE at byte \(at) calls \(callable.typeName), not a global")
        }
        guard let args = tupleItems(arguments) else {
            throw invalid("REDUCE at byte \(at) passes \(arguments.typeName) as arguments to \(function.name)")
        }
        switch function {
        case .orderedDict:
            let object = try make(.dict([]))
            if let first = args.first {
                // OrderedDict([(key, value), ...])
                guard args.count == 1, let pairs = tupleItems(first) else {
                    throw invalid("collections.OrderedDict at byte \(at) is given unexpected arguments")
                }
                var flat: [PickleValue] = []
                for pair in pairs {
                    guard let kv = tupleItems(pair), kv.count == 2 else {
                        throw invalid("collections.OrderedDict at byte \(at) is given something other than pairs")
                    }
                    flat += kv
                }
                try setItems(flat, into: object, at: at)
            }
            return object
        case .rebuildTensor, .rebuildTensorV2, .rebuildTensorV3:
            return try rebuildTensor(function, args, at: at)
        case .rebuildParameter, .rebuildParameterWithState:
            guard args.count == (function == .rebuildParameter ? 3 : 4), case .object(let i) = args[0],
                  case .tensor = objects[i] else {
                throw invalid("\(function.name) at byte \(at) is not given a tensor and its flags")
            }
            return args[0]
        case .storageType, .dtype:
            throw invalid("REDUCE at byte \(at) calls \(function.name), which a state dict never does")
        }
    }

    private func int(_ value: PickleValue) -> Int64? {
        if case .int(let v) = value { return v }
        return nil
    }

    private mutating func rebuildTensor(_ function: TorchGlobal, _ args: [PickleValue], at: Int) throws(TorchPickleError) -> PickleValue {
        let expected: ClosedRange<Int> = switch function {
        case .rebuildTensor: 4...4
        case .rebuildTensorV2: 6...7
        default: 7...8
        }
        guard expected.contains(args.count) else {
            throw invalid("\(function.name) at byte \(at) is given \(args.count) arguments")
        }
        guard case .object(let storageIndex) = args[0], case .storage(let storage) = objects[storageIndex] else {
            throw invalid("\(function.name) at byte \(at) is not given a storage")
        }
        guard let offset = int(args[1]), offset >= 0 else {
            throw invalid("\(function.name) at byte \(at) has a storage offset that is not a non-negative int")
        }
        guard let sizeItems = tupleItems(args[2]), let strideItems = tupleItems(args[3]) else {
            throw invalid("\(function.name) at byte \(at) has a size or stride that is not a tuple")
        }
        guard sizeItems.count == strideItems.count, sizeItems.count <= Self.maximumRank else {
            throw invalid("\(function.name) at byte \(at) has \(sizeItems.count) sizes and \(strideItems.count) strides (at most \(Self.maximumRank))")
        }
        var shape: [Int64] = []
        var stride: [Int64] = []
        for (s, t) in zip(sizeItems, strideItems) {
            guard let size = int(s), size >= 0, let step = int(t) else {
                throw invalid("\(function.name) at byte \(at) has a size or stride that is not an int")
            }
            shape.append(size)
            stride.append(step)
        }
        var dtype = storage.dtype
        var metadata: PickleValue? = nil
        if function == .rebuildTensorV3 {
            guard case .global(.dtype(let d, _)) = args[6] else {
                throw invalid("\(function.name) at byte \(at) is not given a dtype")
            }
            dtype = d
            if args.count == 8 { metadata = args[7] }
        } else if function == .rebuildTensorV2, args.count == 7 {
            metadata = args[6]
        }
        if let metadata, !isEmpty(metadata) {
            throw TorchPickleError(file: path, kind: .unsupportedTensor(
                "a tensor at byte \(at) carries conj/neg metadata, which changes its values; save it with .resolve_conj().resolve_neg()"))
        }
        guard let dtype else {
            throw invalid("\(function.name) at byte \(at) is given an untyped storage and no dtype")
        }
        return try make(.tensor(TensorRecord(storage: storageIndex, dtype: dtype, storageOffset: offset, shape: shape, stride: stride)))
    }

    private func isEmpty(_ value: PickleValue) -> Bool {
        switch value {
        case .none: return true
        case .object(let i):
            if case .dict(let pairs) = objects[i] { return pairs.isEmpty }
            return false
        default: return false
        }
    }

    /// `('storage', storage_type, key, location, numel)`, plus a view (None) in the legacy format.
    private mutating func persistentLoad(_ pid: PickleValue, at: Int) throws(TorchPickleError) -> PickleValue {
        guard let items = tupleItems(pid), let first = items.first, case .string(let tag) = first else {
            throw invalid("persistent id at byte \(at) is not a tuple starting with a string")
        }
        guard tag == "storage" else {
            throw invalid("persistent id '\(Self.printable(tag))' at byte \(at) is not a storage")
        }
        guard items.count == 5 || (legacyPersistentIDs && items.count == 6) else {
            throw invalid("storage persistent id at byte \(at) has \(items.count) fields")
        }
        guard case .global(.storageType(let dtype, _)) = items[1] else {
            throw invalid("storage persistent id at byte \(at) names \(items[1].typeName), not a storage type")
        }
        let key: String
        switch items[2] {
        case .string(let text): key = text
        case .int(let n): key = String(n)
        default: throw invalid("storage persistent id at byte \(at) has a key that is not a string")
        }
        guard let count = int(items[4]), count >= 0 else {
            throw invalid("storage '\(Self.printable(key))' at byte \(at) has an element count that is not a non-negative int")
        }
        if items.count == 6, case .none = items[5] {} else if items.count == 6 {
            throw TorchPickleError(file: path, kind: .unsupportedFormat(
                "storage '\(Self.printable(key))' is a storage view (written by torch before 0.4), which ckdiff does not read"))
        }
        let record = StorageRecord(key: key, dtype: dtype, elementCount: count)
        if let existing = storageByKey[key] {
            guard case .storage(let known) = objects[existing], known.dtype == dtype, known.elementCount == count else {
                throw invalid("storage '\(Self.printable(key))' is declared twice with different types or sizes")
            }
            return .object(existing)
        }
        let object = try make(.storage(record))
        if case .object(let i) = object { storageByKey[key] = i }
        return object
    }
}
