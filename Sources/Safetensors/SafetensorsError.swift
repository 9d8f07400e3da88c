/// Why a safetensors file was refused, naming the file and, where there is one, the tensor.
///
/// The kinds follow the error variants of the reference reader
/// (`safetensors/src/tensor.rs`, `SafeTensorError`) and are checked in the same
/// order, so a file is refused for the same reason the reference gives. Two
/// checks the format's README asks for but the reference leaves out come after
/// them: duplicate tensor names and duplicate metadata keys.
public struct SafetensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Kind: Sendable, Equatable {
        /// The file is shorter than the 8-byte header length.
        case headerTooSmall(fileSize: Int64)
        /// The header length is above the 100,000,000-byte limit.
        case headerTooLarge(length: UInt64)
        /// The header length runs past the end of the file.
        case invalidHeaderLength(length: UInt64, fileSize: Int64)
        /// The header is not UTF-8.
        case invalidHeader
        /// The header is not JSON of the expected shape; the detail says where.
        case invalidHeaderDeserialization(String)
        /// A tensor's data offsets leave a gap, overlap, or do not start at 0.
        case invalidOffset(begin: UInt64, end: UInt64, expectedBegin: UInt64, note: String?)
        /// The element count or byte count of a tensor overflows 64 bits.
        case validationOverflow
        /// A sub-byte dtype does not fill whole bytes.
        case misalignedSlice(bits: Int)
        /// The data offsets span a different number of bytes than shape × dtype.
        case tensorInvalidInfo(expectedBytes: Int, actualBytes: UInt64)
        /// The data does not end exactly at the end of the file.
        case metadataIncompleteBuffer(expectedFileSize: UInt64, fileSize: Int64)
        /// A tensor name appears more than once in the header.
        case duplicateTensorName(count: Int)
        /// A `__metadata__` key appears more than once.
        case duplicateMetadataKey(String)
        /// The file could not be opened or read.
        case io(String)
    }

    /// The path of the file, as given.
    public var file: String
    /// The tensor concerned, when the problem is in one tensor's entry.
    public var tensor: String?
    /// What is wrong.
    public var kind: Kind

    public init(file: String, tensor: String? = nil, kind: Kind) {
        self.file = file
        self.tensor = tensor
        self.kind = kind
    }

    /// The name of the reference reader's error variant for this kind, or nil for
    /// the checks the reference does not make and for I/O failures.
    public var referenceVariant: String? {
        switch kind {
        case .headerTooSmall: return "HeaderTooSmall"
        case .headerTooLarge: return "HeaderTooLarge"
        case .invalidHeaderLength: return "InvalidHeaderLength"
        case .invalidHeader: return "InvalidHeader"
        case .invalidHeaderDeserialization: return "InvalidHeaderDeserialization"
        case .invalidOffset: return "InvalidOffset"
        case .validationOverflow: return "ValidationOverflow"
        case .misalignedSlice: return "MisalignedSlice"
        case .tensorInvalidInfo: return "TensorInvalidInfo"
        case .metadataIncompleteBuffer: return "MetadataIncompleteBuffer"
        case .duplicateTensorName, .duplicateMetadataKey, .io: return nil
        }
    }

    /// One line for stderr: the file, the tensor, what is wrong.
    ///
    /// Names and values from the file are echoed through ``Printable``: control characters
    /// become `?` and a long value is cut, so the line is one line and cannot drive the terminal.
    public var description: String {
        var text = file + ": "
        if let tensor { text += "tensor '\(Printable.text(tensor))': " }
        text += message
        return Printable.line(text)
    }

    private var message: String {
        switch kind {
        case .headerTooSmall(let size):
            return "not a safetensors file: \(size) bytes, fewer than the 8-byte header length (HeaderTooSmall)"
        case .headerTooLarge(let length):
            return "header length \(length) is above the 100,000,000-byte limit; the file is corrupt or not safetensors (HeaderTooLarge)"
        case .invalidHeaderLength(let length, let size):
            return "header length \(length) runs past the end of the \(size)-byte file; the file is truncated or not safetensors (InvalidHeaderLength)"
        case .invalidHeader:
            return "header is not valid UTF-8 (InvalidHeader)"
        case .invalidHeaderDeserialization(let detail):
            return "header is not a valid safetensors JSON header: \(detail) (InvalidHeaderDeserialization)"
        case .invalidOffset(let begin, let end, let expected, let note):
            var text: String
            if end < begin {
                text = "data offsets [\(begin), \(end)] end before they begin"
            } else if begin > expected {
                text = "data offsets [\(begin), \(end)] leave a gap: the previous tensor ends at \(expected)"
            } else {
                text = "data offsets [\(begin), \(end)] overlap the previous tensor, which ends at \(expected)"
            }
            if let note { text += " (\(note))" }
            return text + " (InvalidOffset)"
        case .validationOverflow:
            return "shape × dtype size overflows 64 bits (ValidationOverflow)"
        case .misalignedSlice(let bits):
            return "\(bits) bits of data do not fill whole bytes (MisalignedSlice)"
        case .tensorInvalidInfo(let expected, let actual):
            return "data offsets span \(actual) bytes but shape × dtype needs \(expected) (TensorInvalidInfo)"
        case .metadataIncompleteBuffer(let expected, let size):
            if UInt64(size) > expected {
                return "file has \(UInt64(size) - expected) bytes after the last tensor's data (MetadataIncompleteBuffer)"
            }
            return "file is \(size) bytes but its header describes \(expected); it is truncated (MetadataIncompleteBuffer)"
        case .duplicateTensorName(let count):
            return "the header lists this tensor \(count) times"
        case .duplicateMetadataKey(let key):
            return "__metadata__ key '\(Printable.text(key))' appears more than once"
        case .io(let detail):
            return detail
        }
    }
}
