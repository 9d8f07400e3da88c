// libFuzzer target: the diffusers variant resolver and the shard index reader.
//
// Input: text up to the first NUL byte is a folder listing, one file name per line, whose first
// line is the requested variant (empty for none); the bytes after the NUL are the shard index JSON.
@testable import Checkpoints
import Glibc

let indexPath: String = {
    let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(folder)/ckdiff-fuzz-index-\(getpid()).json"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDiffusersIndex(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let lines = String(decoding: bytes[..<split], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let requested = lines.first.flatMap { $0.isEmpty ? nil : String($0) }
    let names = lines.dropFirst().compactMap { WeightFileName(String($0)) }
    if requested == nil || WeightFileName.isVariant(Substring(requested ?? "")) {
        let resolver = VariantResolver(component: "unet", folderPath: "/f/unet", errorPath: "/f", names: names)
        if let choice = try? resolver.choose(requested: requested) {
            switch choice.selection {
            case .single(let name): precondition(!name.isEmpty)
            case .sharded(let index, _): precondition(!index.isEmpty)
            }
        }
    }
    if split < bytes.count {
        let json = Array(bytes[(split + 1)...])
        let fd = open(indexPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return 0 }
        _ = json.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if let index = try? ShardIndex.read(indexPath) {
            precondition(!index.weightMap.isEmpty)
            try? index.validate(against: [:])
        }
    }
    return 0
}
