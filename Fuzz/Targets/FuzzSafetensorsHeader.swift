// libFuzzer target: the safetensors header reader on arbitrary bytes taken as a whole file.
import Safetensors

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard bytes.count >= 8 else { return 0 }
    var length: UInt64 = 0
    for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
    // As SafetensorsFile.read does: the header is the N bytes after the prefix, clipped to the file.
    let available = UInt64(bytes.count - 8)
    let header = Array(bytes[8..<8 + Int(min(length, available))])
    if let file = try? SafetensorsFile.parse(header: header, path: "fuzz", fileSize: Int64(bytes.count)) {
        // Every located tensor must lie inside the file.
        for tensor in file.tensors {
            precondition(tensor.fileOffset >= 8 && tensor.fileOffset + Int64(tensor.byteCount) <= Int64(bytes.count))
        }
    }
    return 0
}
