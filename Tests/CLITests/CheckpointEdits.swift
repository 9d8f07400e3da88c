import CKDiffTestSupport
import Foundation
import Safetensors

/// Hand-made faults on real checkpoints: copies of a single file with tensors dropped or bytes changed.
enum CheckpointEdits {
    /// Copies `source` to `path`, keeping the tensors `keep` accepts and passing each one's bytes through `change`.
    static func copy(of source: String, to path: String, keep: (String) -> Bool = { _ in true },
                     change: (String, [UInt8], TensorInfo) -> [UInt8] = { _, bytes, _ in bytes }) throws {
        let header = try SafetensorsFile.open(source)
        let file = try ReadOnlyFile(path: source)
        let entries = try header.tensors.filter { keep($0.name) }.map { info in
            SafetensorsWriter.Entry(name: info.name, dtype: info.dtype, shape: info.shape,
                                    bytes: change(info.name, try file.readBytes(count: info.byteCount, at: info.fileOffset), info))
        }
        try SafetensorsWriter.write(entries, to: path)
    }

    /// Replaces element `index` of an F16 tensor with the given bit pattern.
    static func settingF16(_ bytes: [UInt8], index: Int, bits: UInt16) -> [UInt8] {
        var out = bytes
        out[index * 2] = UInt8(bits & 0xFF)
        out[index * 2 + 1] = UInt8(bits >> 8)
        return out
    }

    /// The F16 bit patterns of a tensor's bytes.
    static func f16Bits(_ bytes: [UInt8]) -> [UInt16] {
        stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
    }

    /// The JSON object in `data`.
    static func object(_ data: Data) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        return object
    }

    /// The repository root (for `Baselines/` and `docs/`).
    static let repository = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()

    static let schema = repository.appendingPathComponent("docs/ckdiff-report.schema.json").path
}
