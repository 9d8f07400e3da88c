import Safetensors

extension ByteSource {
    /// Exactly `count` bytes at `offset`, a failure reported as the pickle reader's error.
    func bytes(count: Int, at offset: Int64) throws(TorchPickleError) -> [UInt8] {
        do { return try readBytes(count: count, at: offset) } catch { throw TorchPickleError(error) }
    }
}
