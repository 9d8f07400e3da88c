import Foundation
import Safetensors

/// Writes small safetensors files for tests, the way `safetensors.torch.save_file` lays them out.
///
/// Tensors are sorted by descending dtype alignment then name, the header is
/// padded with spaces to a multiple of 8 bytes, and `__metadata__` comes first.
/// Only tests use this: ckdiff itself never writes checkpoints.
public struct SafetensorsWriter {
    /// A tensor to write: its raw little-endian bytes must match dtype × shape.
    public struct Entry {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// An F32 tensor from values.
        public static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> Entry {
            Entry(name: name, dtype: .f32, shape: shape, bytes: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        }

        /// An F16 tensor from values (rounded to nearest even).
        public static func f16(_ name: String, _ shape: [Int], _ values: [Float]) -> Entry {
            Entry(name: name, dtype: .f16, shape: shape, bytes: values.flatMap { withUnsafeBytes(of: Float16($0).bitPattern.littleEndian, Array.init) })
        }

        /// A BF16 tensor from values (rounded to nearest even; NaN stays NaN).
        public static func bf16(_ name: String, _ shape: [Int], _ values: [Float]) -> Entry {
            Entry(name: name, dtype: .bf16, shape: shape, bytes: values.flatMap { v -> [UInt8] in
                let bits = v.bitPattern
                let rounded: UInt16
                if v.isNaN { rounded = UInt16(bits >> 16) | 0x40 } else {
                    let lsb = (bits >> 16) & 1
                    rounded = UInt16((bits &+ 0x7fff &+ lsb) >> 16)
                }
                return withUnsafeBytes(of: rounded.littleEndian, Array.init)
            })
        }

        /// An I64 tensor from values.
        public static func i64(_ name: String, _ shape: [Int], _ values: [Int64]) -> Entry {
            Entry(name: name, dtype: .i64, shape: shape, bytes: values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
        }
    }

    /// The header JSON and data for `entries`, as a file would hold them.
    public static func encode(_ entries: [Entry], metadata: [String: String]? = nil) -> [UInt8] {
        let ordered = entries.sorted { lhs, rhs in
            let l = DType.allCases.firstIndex(of: lhs.dtype) ?? 0
            let r = DType.allCases.firstIndex(of: rhs.dtype) ?? 0
            return l != r ? l > r : lhs.name < rhs.name
        }
        var parts: [String] = []
        if let metadata {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        var data: [UInt8] = []
        for entry in ordered {
            let end = offset + entry.bytes.count
            parts.append("\(jsonString(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            data += entry.bytes
            offset = end
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file += $0 }
        return file + header + data
    }

    /// Writes `entries` to `path`.
    public static func write(_ entries: [Entry], metadata: [String: String]? = nil, to path: String) throws {
        try Data(encode(entries, metadata: metadata)).write(to: URL(fileURLWithPath: path))
    }

    /// Writes a header-only sparse file: the header for tensors of these dtypes and shapes,
    /// then a hole up to the size the data would take, so a full-size layout costs no disk.
    public static func writeSparse(_ tensors: [(name: String, dtype: DType, shape: [Int])], to path: String) throws {
        var parts: [String] = []
        var offset = 0
        let ordered = tensors.sorted { $0.name < $1.name }
        for t in ordered {
            let count = t.shape.reduce(1, *) * t.dtype.bitSize / 8
            parts.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + count)]}")
            offset += count
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var prefix: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix += $0 }
        let url = URL(fileURLWithPath: path)
        try Data(prefix + header).write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(8 + header.count + offset))
        try handle.close()
    }

    /// A JSON string literal for `text`.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
