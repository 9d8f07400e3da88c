import CKDiffJSON

/// The parsed, validated header of a `.safetensors` file.
///
/// Opening a file reads only its header; tensor data is read later, a byte range
/// at a time, through ``ReadOnlyFile``. Validation is as strict as the reference
/// reader and in its order (see ``SafetensorsError``), so anything the reference
/// refuses is refused here for the same reason, and what it accepts (space-padded
/// or whitespace-led headers, 0-rank and empty tensors, unaligned offsets,
/// unknown fields, `"__metadata__": null`) is accepted. The one exception is serde's
/// alternative spellings that no writer produces, a tensor entry written as a
/// `[dtype, shape, data_offsets]` array or a dtype written as `{"F32": null}`:
/// the reference accepts them, ckdiff refuses them as InvalidHeaderDeserialization.
public struct SafetensorsFile: Sendable {
    /// The largest header the reference reader accepts, in bytes.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// The path as given.
    public let path: String
    /// The size of the file in bytes.
    public let fileSize: Int64
    /// The length of the JSON header in bytes (N in the format's description).
    public let headerLength: Int
    /// The tensors, in the order of their data in the file.
    public let tensors: [TensorInfo]
    /// The `__metadata__` entries in header order; empty when there are none.
    public let metadata: [(key: String, value: String)]
    /// Whether the header has a `__metadata__` entry at all (null counts as absent).
    public let hasMetadata: Bool

    private let indexByName: [String: Int]

    /// The tensor with this name, if the file has one.
    public func tensor(named name: String) -> TensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The value of a metadata key, if present.
    public func metadataValue(_ key: String) -> String? {
        metadata.first(where: { $0.key == key })?.value
    }

    /// Opens and validates the file at `path`, reading its header only.
    public static func open(_ path: String) throws(SafetensorsError) -> SafetensorsFile {
        let file = try ReadOnlyFile(path: path)
        return try read(from: file)
    }

    /// Validates the header of an already opened file, or of bytes in memory seen as a file.
    public static func read(from file: some ByteSource) throws(SafetensorsError) -> SafetensorsFile {
        let path = file.path
        let size = file.size
        guard size >= 8 else { throw SafetensorsError(file: path, kind: .headerTooSmall(fileSize: size)) }
        let prefix = try file.readBytes(count: 8, at: 0)
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(prefix[i]) }
        guard length <= maximumHeaderLength else {
            throw SafetensorsError(file: path, kind: .headerTooLarge(length: length))
        }
        guard length + 8 <= UInt64(size) else {
            throw SafetensorsError(file: path, kind: .invalidHeaderLength(length: length, fileSize: size))
        }
        let header = try file.readBytes(count: Int(length), at: 8)
        return try parse(header: header, path: path, fileSize: size)
    }

    /// Validates a header already in memory, as if it came from a file of `fileSize` bytes.
    public static func parse(header: [UInt8], path: String, fileSize: Int64) throws(SafetensorsError) -> SafetensorsFile {
        func deserialization(_ detail: String, _ tensor: String? = nil) -> SafetensorsError {
            SafetensorsError(file: path, tensor: tensor, kind: .invalidHeaderDeserialization(detail))
        }
        let isUTF8 = header.withUnsafeBufferPointer { StrictJSONParser.isValidUTF8($0) }
        guard isUTF8 else { throw SafetensorsError(file: path, kind: .invalidHeader) }
        let root: JSONValue
        do { root = try StrictJSONParser.parse(header) } catch {
            throw deserialization(error.description)
        }
        guard case .object(let object) = root else {
            throw deserialization("expected a JSON object, found \(root.typeName)")
        }

        // Schema, with serde's last-one-wins for repeated names; repeats are refused after the reference checks.
        var entries: [String: (dtype: DType, shape: [UInt64], begin: UInt64, end: UInt64)] = [:]
        var occurrences: [String: Int] = [:]
        var metadata: [(key: String, value: String)] = []
        var hasMetadata = false
        var duplicateMetadataKey: String?
        for (name, value) in object.members {
            if name == "__metadata__" {
                // serde refuses a second `__metadata__` as soon as it sees it ("duplicate field").
                guard occurrences[name] == nil else {
                    throw deserialization("duplicate field '__metadata__'")
                }
                switch value {
                case .null:
                    hasMetadata = false
                    metadata = []
                case .object(let entriesObject):
                    hasMetadata = true
                    metadata = []
                    let collected = try collectMetadata(entriesObject.members) { detail, _ in deserialization(detail) }
                    metadata = collected.entries
                    duplicateMetadataKey = collected.firstDuplicate
                default:
                    throw deserialization("__metadata__ is a \(value.typeName), not an object of strings")
                }
                occurrences[name, default: 0] += 1
                continue
            }
            guard case .object(let info) = value else {
                throw deserialization("entry is a \(value.typeName), not an object", name)
            }
            // serde refuses a repeated known field of a tensor entry; unknown fields may repeat.
            var seenFields = Set<String>()
            for (field, _) in info.members where ["dtype", "shape", "data_offsets"].contains(field) {
                guard seenFields.insert(field).inserted else {
                    throw deserialization("duplicate field '\(field)'", name)
                }
            }
            guard let dtypeValue = info["dtype"] else { throw deserialization("missing field 'dtype'", name) }
            guard let dtypeName = dtypeValue.stringValue else { throw deserialization("'dtype' is not a string", name) }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw deserialization("unknown dtype '\(Printable.text(dtypeName))'", name)
            }
            guard let shapeValue = info["shape"] else { throw deserialization("missing field 'shape'", name) }
            guard let shapeArray = shapeValue.arrayValue else { throw deserialization("'shape' is not an array", name) }
            var shape: [UInt64] = []
            shape.reserveCapacity(shapeArray.count)
            for dimension in shapeArray {
                guard let d = dimension.uint64Value else {
                    throw deserialization("'shape' holds \(dimensionText(dimension)), not a non-negative integer", name)
                }
                shape.append(d)
            }
            guard let offsetsValue = info["data_offsets"] else { throw deserialization("missing field 'data_offsets'", name) }
            guard let offsets = offsetsValue.arrayValue, offsets.count == 2 else {
                throw deserialization("'data_offsets' is not a pair of integers", name)
            }
            guard let begin = offsets[0].uint64Value, let end = offsets[1].uint64Value else {
                throw deserialization("'data_offsets' holds \(dimensionText(offsets[0].uint64Value == nil ? offsets[0] : offsets[1])), not a non-negative integer", name)
            }
            entries[name] = (dtype, shape, begin, end)
            occurrences[name, default: 0] += 1
        }

        // Offsets, element counts and byte counts, tensor by tensor in data order.
        let ordered = entries.sorted {
            ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key)
        }
        let dataStart = Int64(header.count) + 8
        var expectedBegin: UInt64 = 0
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(ordered.count)
        for (name, entry) in ordered {
            guard entry.begin == expectedBegin, entry.end >= entry.begin else {
                let repeats = occurrences[name, default: 1]
                let note = repeats > 1 ? "the header lists '\(Printable.text(name))' \(repeats) times; like the reference reader, ckdiff keeps the last entry" : nil
                throw SafetensorsError(file: path, tensor: name, kind: .invalidOffset(
                    begin: entry.begin, end: entry.end, expectedBegin: expectedBegin, note: note))
            }
            expectedBegin = entry.end
            var elements: UInt64 = 1
            for d in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                if overflow { throw SafetensorsError(file: path, tensor: name, kind: .validationOverflow) }
                elements = product
            }
            let (bits, overflow) = elements.multipliedReportingOverflow(by: UInt64(entry.dtype.bitSize))
            if overflow { throw SafetensorsError(file: path, tensor: name, kind: .validationOverflow) }
            guard bits % 8 == 0 else {
                throw SafetensorsError(file: path, tensor: name, kind: .misalignedSlice(bits: Int(clamping: bits)))
            }
            let bytes = bits / 8
            guard entry.end - entry.begin == bytes else {
                throw SafetensorsError(file: path, tensor: name, kind: .tensorInvalidInfo(
                    expectedBytes: Int(clamping: bytes), actualBytes: entry.end - entry.begin))
            }
            // Offsets are now bounded by the checks above and the file-size check below
            // only once all tensors are seen; keep them as UInt64 until then.
            tensors.append(TensorInfo(
                name: name, dtype: entry.dtype, shape: entry.shape.map { Int(clamping: $0) },
                elementCount: Int(clamping: elements), fileOffset: Int64(clamping: entry.begin),
                byteCount: Int(clamping: bytes)))
        }
        let (expectedSize, sizeOverflow) = expectedBegin.addingReportingOverflow(UInt64(dataStart))
        guard !sizeOverflow, expectedSize == UInt64(fileSize) else {
            throw SafetensorsError(file: path, kind: .metadataIncompleteBuffer(
                expectedFileSize: sizeOverflow ? .max : expectedSize, fileSize: fileSize))
        }
        // Every offset is now inside the file, so the conversions above were exact.
        for i in tensors.indices { tensors[i].fileOffset += dataStart }

        // Checks the format asks for that the reference reader leaves out.
        if let (name, count) = occurrences.filter({ $0.value > 1 }).min(by: { $0.key < $1.key }) {
            throw SafetensorsError(file: path, tensor: name, kind: .duplicateTensorName(count: count))
        }
        if let key = duplicateMetadataKey {
            throw SafetensorsError(file: path, kind: .duplicateMetadataKey(key))
        }
        return SafetensorsFile(path: path, fileSize: fileSize, headerLength: header.count,
                               tensors: tensors, metadata: metadata, hasMetadata: hasMetadata)
    }

    /// The entries of a `__metadata__` object and its first repeated key, in one pass.
    ///
    /// Each member costs one set insertion (`steps` counts the members looked at): a header of
    /// 25,000 repeats of one key is one pass over 25,000 members, not 25,000 scans of the list.
    /// After a repeat the file is refused (after the reference checks), so what the list holds
    /// from then on does not matter; it keeps the first value of each key.
    package static func collectMetadata(
        _ members: [(key: String, value: JSONValue)],
        _ deserialization: (String, String?) -> SafetensorsError
    ) throws(SafetensorsError) -> (entries: [(key: String, value: String)], firstDuplicate: String?, steps: Int) {
        var entries: [(key: String, value: String)] = []
        entries.reserveCapacity(members.count)
        var seen = Set<String>()
        var firstDuplicate: String?
        var steps = 0
        for (key, item) in members {
            steps += 1
            guard case .string(let text) = item else {
                throw deserialization("__metadata__ value of '\(Printable.text(key))' is a \(item.typeName), not a string", nil)
            }
            if seen.insert(key).inserted {
                entries.append((key, text))
            } else if firstDuplicate == nil {
                firstDuplicate = key
            }
        }
        return (entries, firstDuplicate, steps)
    }

    /// An index of tensors that another reader located in a file of another format (a legacy
    /// PyTorch pickle file), so they are read like a safetensors file's: ``headerLength`` is 0,
    /// tensors may share bytes, and nothing here is validated beyond what that reader checked.
    public init(locatedTensorsOf path: String, fileSize: Int64, tensors: [TensorInfo],
                metadata: [(key: String, value: String)]) {
        self.init(path: path, fileSize: fileSize, headerLength: 0, tensors: tensors,
                  metadata: metadata, hasMetadata: !metadata.isEmpty)
    }

    private init(path: String, fileSize: Int64, headerLength: Int, tensors: [TensorInfo],
                 metadata: [(key: String, value: String)], hasMetadata: Bool) {
        self.path = path
        self.fileSize = fileSize
        self.headerLength = headerLength
        self.tensors = tensors
        self.metadata = metadata
        self.hasMetadata = hasMetadata
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.indexByName = index
    }
}

/// A refused dimension or offset as the file spells it, cut to 40 characters (a 100,000-digit
/// number is echoed as its first digits and its length).
private func dimensionText(_ value: JSONValue) -> String {
    if case .number(let text) = value {
        let count = text.utf8.count
        return count > 40 ? "\(Printable.text(text, limit: 40)) (a number of \(count) characters)" : text
    }
    return "a \(value.typeName)"
}
