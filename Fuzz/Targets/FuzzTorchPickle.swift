// libFuzzer target: the torch.save reader (zip directory, legacy stream, restricted unpickler).
import Safetensors
import TorchPickle

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchPickle(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let file = try? TorchCheckpointFile.read(from: MemoryBytes(bytes), path: "fuzz") {
        // Every located tensor must lie inside the file.
        for tensor in file.tensors {
            precondition(tensor.fileOffset >= 0 && tensor.fileOffset + Int64(tensor.byteCount) <= Int64(bytes.count))
        }
    }
    return 0
}
