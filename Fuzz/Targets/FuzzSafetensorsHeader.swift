// libFuzzer target: the safetensors header reader on arbitrary bytes taken as a whole file.
import Safetensors

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    // The reader itself, on the bytes seen as a whole file: the same code that reads files.
    if let file = try? SafetensorsFile.read(from: MemoryBytes(bytes, path: "fuzz")) {
        // Every located tensor must lie inside the file.
        for tensor in file.tensors {
            precondition(tensor.fileOffset >= 8 && tensor.fileOffset + Int64(tensor.byteCount) <= Int64(bytes.count))
        }
    }
    return 0
}
