import Safetensors

/// The tensors of a legacy PyTorch file (`torch.save`: `.ckpt`, `.pt`, `.pth`, `.bin`), located
/// in the file without loading them.
///
/// Two layouts are read: the zip archive of torch ≥ 1.6 (`<archive>/data.pkl`, stored
/// `<archive>/data/<key>` entries, zip64 past 4 GB) and the older stream of pickles followed by
/// raw storages (`_use_new_zipfile_serialization=False`). Either way the pickle is interpreted by
/// a restricted unpickler (see ``PickleMachine``) that executes nothing and refuses every global
/// outside a state dict's needs. Each tensor becomes a ``TensorInfo`` whose ``TensorInfo/fileOffset``
/// is the absolute position of its first byte in the file, so tensor data is read exactly as in
/// a safetensors file.
public struct TorchCheckpointFile: Sendable {
    /// The largest pickle read, in bytes (the safetensors header limit; real state dicts use well under 1 %).
    public static let maximumPickleLength: Int64 = 100_000_000

    /// The two layouts `torch.save` writes.
    public enum Format: String, Sendable {
        /// The zip archive of torch ≥ 1.6.
        case zip = "pytorch_zip"
        /// The pickle stream of earlier torch (`_use_new_zipfile_serialization=False`).
        case legacy = "pytorch_legacy"
    }

    /// The path as given.
    public let path: String
    /// The size of the file in bytes.
    public let fileSize: Int64
    /// Which layout the file has.
    public let format: Format
    /// The tensors in data order (tensors sharing a storage may overlap).
    public let tensors: [TensorInfo]
    /// Top-level scalars of the saved object (`global_step`, `epoch`, `decay`, …) as text.
    public let metadata: [(key: String, value: String)]

    /// Whether a file name has one of the extensions `torch.save` files go by.
    public static func hasTorchExtension(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return [".ckpt", ".pt", ".pth", ".bin"].contains { lowered.hasSuffix($0) }
    }

    /// Opens the file at `path` read-only and locates its tensors.
    public static func open(_ path: String) throws(TorchPickleError) -> TorchCheckpointFile {
        let file: ReadOnlyFile
        do { file = try ReadOnlyFile(path: path) } catch { throw TorchPickleError(error) }
        return try read(from: file, path: path)
    }

    /// Locates the tensors of a file already open (or of bytes in memory).
    public static func read(from source: some ByteSource, path: String) throws(TorchPickleError) -> TorchCheckpointFile {
        let prefix = try source.bytes(count: Int(min(source.size, 512)), at: 0)
        if ZipArchive.looksLikeZip(prefix) {
            return try readZip(source, path: path)
        }
        if prefix.first == 0x80 {
            return try readLegacy(source, path: path)
        }
        if prefix.count >= 262, Array(prefix[257..<262]) == Array("ustar".utf8) {
            throw TorchPickleError(file: path, kind: .unsupportedFormat(
                "is a tar archive (torch before 0.1.10), which ckdiff does not read; re-save it with a current torch"))
        }
        throw TorchPickleError(file: path, kind: .unsupportedFormat(
            "is neither a PyTorch zip checkpoint nor a legacy PyTorch pickle (it starts with neither 'PK' nor a pickle protocol byte)"))
    }

    init(path: String, fileSize: Int64, format: Format, tensors: [TensorInfo], metadata: [(key: String, value: String)]) {
        self.path = path
        self.fileSize = fileSize
        self.format = format
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Resolves flattened tensors against their storages' locations and builds the file.
    ///
    /// - Parameter storageRange: The absolute offset and length in bytes of a storage's data.
    static func assemble(
        path: String, fileSize: Int64, format: Format, machine: PickleMachine, flattener: StateDictFlattener,
        storageRange: (StorageRecord) throws(TorchPickleError) -> (offset: Int64, count: Int64)
    ) throws(TorchPickleError) -> TorchCheckpointFile {
        var ranges: [String: (offset: Int64, count: Int64)] = [:]
        var seen = Set<String>()
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(flattener.tensors.count)
        for (name, index) in flattener.tensors {
            func refuse(_ kind: TorchPickleError.Kind) -> TorchPickleError {
                TorchPickleError(file: path, tensor: PickleMachine.printable(name), kind: kind)
            }
            guard seen.insert(name).inserted else {
                throw refuse(.invalidPickle("two tensors flatten to this name"))
            }
            guard case .tensor(let record) = machine.objects[index],
                  case .storage(let storage) = machine.objects[record.storage] else {
                throw refuse(.invalidPickle("internal error: not a tensor"))
            }
            let range: (offset: Int64, count: Int64)
            if let known = ranges[storage.key] {
                range = known
            } else {
                range = try storageRange(storage)
                ranges[storage.key] = range
            }
            let elementSize = Int64(record.dtype.bitSize / 8)
            guard record.dtype.bitSize % 8 == 0, elementSize > 0 else {
                throw refuse(.unsupportedTensor("dtype \(record.dtype.name) is not whole bytes"))
            }
            var elements: Int64 = 1
            for d in record.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw refuse(.limitExceeded("the shape \(Printable.list(record.shape)) has more elements than a 64-bit count holds"))
                }
                elements = product
            }
            if elements > 1 {
                var expected: Int64 = 1
                for d in record.shape.indices.reversed() where record.shape[d] != 1 {
                    guard record.stride[d] == expected else {
                        throw refuse(.unsupportedTensor(
                            "is not contiguous (shape \(Printable.list(record.shape)), stride \(Printable.list(record.stride))); ckdiff reads contiguous tensors only, save it after .contiguous()"))
                    }
                    expected = expected &* record.shape[d]
                }
            }
            let (begin, beginOverflow) = record.storageOffset.multipliedReportingOverflow(by: elementSize)
            let (length, lengthOverflow) = elements.multipliedReportingOverflow(by: elementSize)
            let (end, endOverflow) = begin.addingReportingOverflow(length)
            guard !beginOverflow, !lengthOverflow, !endOverflow, end <= range.count else {
                throw refuse(.unsupportedTensor(
                    "its data (storage offset \(record.storageOffset), \(elements) elements of \(record.dtype.name)) runs past its \(range.count)-byte storage '\(PickleMachine.printable(storage.key))'"))
            }
            tensors.append(TensorInfo(
                name: name, dtype: record.dtype, shape: record.shape.map { Int($0) }, elementCount: Int(elements),
                fileOffset: range.offset + begin, byteCount: Int(length)))
        }
        tensors.sort { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        return TorchCheckpointFile(path: path, fileSize: fileSize, format: format, tensors: tensors, metadata: flattener.metadata)
    }
}
