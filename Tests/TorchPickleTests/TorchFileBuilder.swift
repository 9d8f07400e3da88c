import Foundation

/// Pickle opcodes written by hand, for streams no real writer produces.
struct PickleBytes {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ codes: UInt8...) { bytes += codes }
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)
        bytes += withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init)
        bytes += utf8
    }
    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }
    /// LONG1 with 8 bytes: any Int64.
    mutating func int(_ value: Int64) {
        bytes += [0x8A, 8]
        bytes += withUnsafeBytes(of: value.littleEndian, Array.init)
    }
    mutating func tuple(_ values: [Int64]) {
        op(0x28)
        for v in values { int(v) }
        op(0x74)
    }
    /// `_rebuild_tensor_v2(storage(key, FloatStorage, numel), offset, size, stride, False, None)`.
    mutating func tensor(key: String, numel: Int64, offset: Int64, size: [Int64], stride: [Int64], storageType: String = "FloatStorage",
                         legacy: Bool = false) {
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28)
        op(0x28); string("storage"); global("torch", storageType); string(key); string("cpu"); int(numel)
        if legacy { op(0x4E) } // the legacy format's sixth field: no storage view
        op(0x74, 0x51)
        int(offset); tuple(size); tuple(stride); op(0x89, 0x4E)
        op(0x74, 0x52)
    }
    /// `{name: tensor}` for one tensor, then STOP.
    static func stateDict(_ name: String, key: String = "0", numel: Int64, offset: Int64 = 0, size: [Int64], stride: [Int64]) -> [UInt8] {
        var p = PickleBytes()
        p.op(0x7D, 0x28)
        p.string(name)
        p.tensor(key: key, numel: numel, offset: offset, size: size, stride: stride)
        p.op(0x75, 0x2E)
        return p.bytes
    }
}

/// A zip with stored entries, laid out as torch.save's (no data descriptors, CRC left 0).
enum StoredZip {
    static func make(_ entries: [(name: String, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        func u16(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
        func u32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
        for (name, data) in entries {
            let offset = out.count
            let nameBytes = Array(name.utf8)
            out += u32(0x0403_4B50) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0)
            out += u32(data.count) + u32(data.count) + u16(nameBytes.count) + u16(0) + nameBytes + data
            directory += u32(0x0201_4B50) + u16(20) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0)
            directory += u32(data.count) + u32(data.count) + u16(nameBytes.count) + u16(0) + u16(0) + u16(0) + u16(0)
            directory += u32(0) + u32(offset) + nameBytes
        }
        let directoryOffset = out.count
        out += directory
        out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(entries.count) + u16(entries.count)
        out += u32(directory.count) + u32(directoryOffset) + u16(0)
        return out
    }

    /// A checkpoint zip: `archive/data.pkl` and `archive/data/<key>` storages.
    static func checkpoint(pickle: [UInt8], storages: [String: [UInt8]] = [:]) -> [UInt8] {
        make([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
             + storages.sorted { $0.key < $1.key }.map { ("archive/data/\($0.key)", $0.value) })
    }
}
