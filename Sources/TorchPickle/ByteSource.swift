import Safetensors

/// Bytes read at positions: an open file, or a buffer in memory (for tests and fuzzing).
public protocol ByteSource {
    /// The number of bytes.
    var size: Int64 { get }
    /// Exactly `count` bytes at `offset`; the caller has checked that they lie inside ``size``.
    func bytes(count: Int, at offset: Int64) throws(TorchPickleError) -> [UInt8]
}

extension ReadOnlyFile: ByteSource {
    public func bytes(count: Int, at offset: Int64) throws(TorchPickleError) -> [UInt8] {
        do { return try readBytes(count: count, at: offset) } catch { throw TorchPickleError(error) }
    }
}

/// A byte buffer in memory, seen as a file.
public struct MemoryBytes: ByteSource {
    /// The bytes.
    public var storage: [UInt8]

    public init(_ storage: [UInt8]) {
        self.storage = storage
    }

    public var size: Int64 { Int64(storage.count) }

    public func bytes(count: Int, at offset: Int64) throws(TorchPickleError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, Int64(count) <= size - offset else {
            throw TorchPickleError(file: "<memory>", kind: .io("read of \(count) bytes at \(offset) past the end"))
        }
        let start = Int(offset)
        return Array(storage[start..<start + count])
    }
}
