/// Bytes that can be read at any offset: an open file, or a buffer in memory seen as a file.
///
/// The readers (safetensors headers here, zip and pickle streams in TorchPickle) read through this,
/// so the same code reads files and the fuzzers' in-memory inputs.
public protocol ByteSource {
    /// The name used in messages: the file's path, or a label for bytes in memory.
    var path: String { get }
    /// The number of bytes.
    var size: Int64 { get }
    /// Exactly `count` bytes at `offset`; a range outside ``size`` is an error naming ``path``.
    func readBytes(count: Int, at offset: Int64) throws(SafetensorsError) -> [UInt8]
}

extension ReadOnlyFile: ByteSource {}

/// A byte buffer in memory, seen as a file.
public struct MemoryBytes: ByteSource {
    /// The bytes.
    public var storage: [UInt8]
    /// The label in messages.
    public var path: String

    public init(_ storage: [UInt8], path: String = "<memory>") {
        self.storage = storage
        self.path = path
    }

    public var size: Int64 { Int64(storage.count) }

    public func readBytes(count: Int, at offset: Int64) throws(SafetensorsError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, Int64(count) <= size - offset else {
            throw SafetensorsError(file: path, kind: .io("read of \(count) bytes at \(offset) past the end"))
        }
        let start = Int(offset)
        return Array(storage[start..<start + count])
    }
}
