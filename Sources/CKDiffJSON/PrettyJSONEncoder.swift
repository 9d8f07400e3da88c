import CKDiffParallel
import Foundation

/// Writes `Encodable` values as JSON text: keys sorted, two-space indentation, `"key" : value`.
///
/// The report files are the only JSON ckdiff writes, and they are big (about 1.7 KB per tensor
/// pair, 4.4 MB for an SDXL checkpoint): Foundation's `JSONEncoder` took about 90 ms for one,
/// longer than the rest of the report. This encoder builds a light tree of containers and writes
/// it once. The output is the same JSON as `JSONEncoder` with `.sortedKeys`, `.prettyPrinted` and
/// `.withoutEscapingSlashes` gives, byte for byte on ckdiff's reports (the tests hold it to that),
/// numbers in Swift's shortest round-trip `description`.
///
/// - Keys are sorted in `String` order (byte order for ASCII keys, which all the reports' keys are).
/// - Strings escape `"`, `\` and the control characters below U+0020 (as `\n`, `\r`, `\t`, `\b`,
///   `\f` or `\u00XX`); everything else, `/` included, is written as it is.
/// - `nil` values written with `encodeIfPresent` are left out; `encodeNil` writes `null`.
/// - A non-finite `Double` or `Float` throws `EncodingError.invalidValue`, as in `JSONEncoder`; an
///   integral one is written without `.0`, as `JSONEncoder` writes it.
/// - A key encoded twice in one object keeps its last value, as in `JSONEncoder`.
package struct PrettyJSONEncoder {
    package init() {}

    /// The JSON text of `value`, without a final newline.
    package func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let node = try JSONNode.of(value, path: [])
        var writer = JSONTextWriter()
        writer.write(node, depth: 0)
        return writer.bytes
    }
}

/// One encoded value: a literal already spelled as JSON, or a container still being filled.
enum JSONNode {
    /// A number, `true`, `false` or `null`, spelled as JSON.
    case literal(String)
    /// A string value, quoted and escaped when written.
    case string(String)
    case object(JSONObjectStorage)
    case array(JSONArrayStorage)
    /// A value encoded through its own encoder (`superEncoder`), read when written.
    case deferred(JSONNodeEncoder)

    /// The node of a value: scalars directly, anything else through its `encode(to:)`.
    static func of<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> JSONNode {
        switch value {
        case let v as String: return .string(v)
        case let v as Int: return .literal(String(v))
        case let v as Int64: return .literal(String(v))
        case let v as Int32: return .literal(String(v))
        case let v as UInt64: return .literal(String(v))
        case let v as UInt32: return .literal(String(v))
        case let v as UInt: return .literal(String(v))
        case let v as Bool: return .literal(v ? "true" : "false")
        case let v as Double: return try .literal(JSONNode.number(v, path: path))
        case let v as Float: return try .literal(JSONNode.number(v, path: path))
        case let v as any JSONChunkedArray: return .array(JSONArrayStorage(try v.jsonNodes(path: path)))
        default:
            let encoder = JSONNodeEncoder(codingPath: path)
            try value.encode(to: encoder)
            return encoder.node ?? .object(JSONObjectStorage())
        }
    }

    /// A finite floating-point value in Swift's shortest round-trip spelling.
    static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, path: [any CodingKey]) throws -> String {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: path, debugDescription: "Unable to encode \(value) directly in JSON."))
        }
        // As JSONEncoder spells them: 5.0 is written 5.
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// The members of an object in the order they were encoded; sorted when written.
final class JSONObjectStorage {
    var members: [(key: String, node: JSONNode)] = []
}

/// The elements of an array.
final class JSONArrayStorage {
    var elements: [JSONNode]

    init(_ elements: [JSONNode] = []) {
        self.elements = elements
    }
}

/// A report entry whose `encode(to:)` may run on several threads at once (a value type that reads
/// only itself). Arrays of them long enough to be worth it (the `tensors` of a report) are encoded
/// in chunks on all cores, each element exactly as `Array`'s own `encode(to:)` would.
package protocol JSONConcurrentlyEncodable: Encodable, Sendable {}

/// Arrays that ``JSONNode/of(_:path:)`` encodes in chunks.
protocol JSONChunkedArray {
    func jsonNodes(path: [any CodingKey]) throws -> [JSONNode]
}

extension Array: JSONChunkedArray where Element: JSONConcurrentlyEncodable {
    func jsonNodes(path: [any CodingKey]) throws -> [JSONNode] {
        try JSONChunks(count: count).map { range in
            try range.map { try JSONNode.of(self[$0], path: path + [JSONPathKey(intValue: $0)]) }
        }.flatMap { $0 }
    }
}

/// How a long array is cut: one chunk below 512 elements, else as many as cores (at most 8).
struct JSONChunks {
    let ranges: [Range<Int>]

    init(count: Int) {
        let parts = count < 512 ? 1 : max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        ranges = (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
    }

    /// `body` of every range, concurrently when there are several, in range order.
    func map<T, E: Error>(_ body: (Range<Int>) throws(E) -> T) throws(E) -> [T] {
        try concurrentMap(count: ranges.count) { index throws(E) in try body(ranges[index]) }
    }
}

/// The `Encoder` handed to `encode(to:)`: it records the container or value the type writes.
final class JSONNodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What was encoded, nil until a container or value is asked for.
    var node: JSONNode?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let storage: JSONObjectStorage
        if case .object(let existing) = node {
            storage = existing
        } else {
            storage = JSONObjectStorage()
            node = .object(storage)
        }
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(storage: storage, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let storage: JSONArrayStorage
        if case .array(let existing) = node {
            storage = existing
        } else {
            storage = JSONArrayStorage()
            node = .array(storage)
        }
        return JSONUnkeyedContainer(storage: storage, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(encoder: self)
    }
}

/// A coding key for array positions and `super`.
private struct JSONPathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: JSONObjectStorage
    let codingPath: [any CodingKey]

    private func add(_ key: Key, _ node: JSONNode) {
        storage.members.append((key.stringValue, node))
    }

    mutating func encodeNil(forKey key: Key) throws { add(key, .literal("null")) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(key, .literal(value ? "true" : "false")) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(key, .string(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(key, .literal(String(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(key, .literal(String(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        add(key, .literal(try JSONNode.number(value, path: codingPath + [key])))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        add(key, .literal(try JSONNode.number(value, path: codingPath + [key])))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(key, try JSONNode.of(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObjectStorage()
        add(key, .object(nested))
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(storage: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONArrayStorage()
        add(key, .array(nested))
        return JSONUnkeyedContainer(storage: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONNodeEncoder(codingPath: codingPath + [JSONPathKey(stringValue: "super")])
        storage.members.append(("super", .deferred(encoder)))
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = JSONNodeEncoder(codingPath: codingPath + [key])
        add(key, .deferred(encoder))
        return encoder
    }
}

private struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let storage: JSONArrayStorage
    let codingPath: [any CodingKey]
    var count: Int { storage.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONPathKey(intValue: storage.elements.count)] }

    mutating func encodeNil() throws { storage.elements.append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { storage.elements.append(.literal(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { storage.elements.append(.string(value)) }
    mutating func encode(_ value: Int) throws { storage.elements.append(.literal(String(value))) }
    mutating func encode(_ value: Double) throws {
        storage.elements.append(.literal(try JSONNode.number(value, path: nextPath)))
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        storage.elements.append(try JSONNode.of(value, path: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObjectStorage()
        let path = nextPath
        storage.elements.append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(storage: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArrayStorage()
        let path = nextPath
        storage.elements.append(.array(nested))
        return JSONUnkeyedContainer(storage: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONNodeEncoder(codingPath: nextPath)
        storage.elements.append(.deferred(encoder))
        return encoder
    }
}

private struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let encoder: JSONNodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .literal("null") }
    mutating func encode(_ value: Bool) throws { encoder.node = .literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoder.node = .string(value) }
    mutating func encode(_ value: Int) throws { encoder.node = .literal(String(value)) }
    mutating func encode(_ value: Double) throws { encoder.node = .literal(try JSONNode.number(value, path: codingPath)) }
    mutating func encode(_ value: Float) throws { encoder.node = .literal(try JSONNode.number(value, path: codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.node = try JSONNode.of(value, path: codingPath) }
}

/// Spells a node tree as indented JSON text.
struct JSONTextWriter {
    fileprivate(set) var bytes: [UInt8] = []
    private var orders: [(keys: [String], order: [Int])] = []

    init() {
        bytes.reserveCapacity(1 << 16)
    }

    mutating func write(_ node: JSONNode, depth: Int) {
        switch node {
        case .literal(let text):
            bytes.append(contentsOf: text.utf8)
        case .string(let text):
            writeQuoted(text)
        case .deferred(let encoder):
            write(encoder.node ?? .object(JSONObjectStorage()), depth: depth)
        case .array(let storage):
            let elements = storage.elements
            enclosed("[", "]", empty: elements.isEmpty, depth: depth) { writer in
                let chunks = JSONChunks(count: elements.count)
                if chunks.ranges.count == 1 {
                    writer.writeElements(elements, 0..<elements.count, depth: depth)
                } else {
                    // Each chunk spelled by its own writer, then joined in order: the same bytes.
                    let texts = chunks.map { range in
                        var chunkWriter = JSONTextWriter()
                        chunkWriter.writeElements(elements, range, depth: depth)
                        return chunkWriter.bytes
                    }
                    for text in texts { writer.bytes.append(contentsOf: text) }
                }
            }
        case .object(let storage):
            let members = storage.members
            enclosed("{", "}", empty: members.isEmpty, depth: depth) { writer in
                for (position, index) in writer.order(of: members).enumerated() {
                    writer.bytes.append(contentsOf: position == 0 ? "\n".utf8 : ",\n".utf8)
                    writer.indent(depth + 1)
                    writer.writeQuoted(members[index].key)
                    writer.bytes.append(contentsOf: " : ".utf8)
                    writer.write(members[index].node, depth: depth + 1)
                }
            }
        }
    }

    /// A container: its opening bracket, what `body` writes, a newline, the indentation and the
    /// closing bracket; an empty one as JSONEncoder spells it, the brackets on two lines apart.
    private mutating func enclosed(_ open: Unicode.Scalar, _ close: Unicode.Scalar, empty: Bool, depth: Int,
                                   _ body: (inout JSONTextWriter) -> Void) {
        bytes.append(UInt8(ascii: open))
        if empty {
            bytes.append(UInt8(ascii: "\n"))
        } else {
            body(&self)
        }
        bytes.append(UInt8(ascii: "\n"))
        indent(depth)
        bytes.append(UInt8(ascii: close))
    }

    /// The elements in `range` of an array, each after its separator and indentation.
    mutating func writeElements(_ elements: [JSONNode], _ range: Range<Int>, depth: Int) {
        for index in range {
            bytes.append(contentsOf: index == 0 ? "\n".utf8 : ",\n".utf8)
            indent(depth + 1)
            write(elements[index], depth: depth + 1)
        }
    }

    /// The members to write, by index: sorted by key (String order, byte order for the ASCII keys of
    /// the reports), and of a key written twice only the last. Objects of one type mostly repeat one
    /// key sequence, so orders are remembered by key sequence.
    fileprivate mutating func order(of members: [(key: String, node: JSONNode)]) -> [Int] {
        for entry in orders where entry.keys.count == members.count
            && zip(entry.keys, members).allSatisfy({ $0 == $1.key }) {
            return entry.order
        }
        let sorted = members.indices.sorted { l, r in
            members[l].key == members[r].key ? l < r : members[l].key < members[r].key
        }
        var order: [Int] = []
        order.reserveCapacity(sorted.count)
        for index in sorted {
            if let last = order.last, members[last].key == members[index].key { order.removeLast() }
            order.append(index)
        }
        if orders.count < 64 { orders.append((members.map(\.key), order)) }
        return order
    }

    /// `text` as a JSON string literal (see ``PrettyJSONEncoder`` for the escapes).
    fileprivate mutating func writeQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var plain = true
        for byte in text.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5c {
            plain = false
            break
        }
        if plain {
            bytes.append(contentsOf: text.utf8)
        } else {
            for byte in text.utf8 {
                switch byte {
                case 0x22: bytes.append(contentsOf: "\\\"".utf8)
                case 0x5c: bytes.append(contentsOf: "\\\\".utf8)
                case 0x0a: bytes.append(contentsOf: "\\n".utf8)
                case 0x0d: bytes.append(contentsOf: "\\r".utf8)
                case 0x09: bytes.append(contentsOf: "\\t".utf8)
                case 0x08: bytes.append(contentsOf: "\\b".utf8)
                case 0x0c: bytes.append(contentsOf: "\\f".utf8)
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 15)])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    fileprivate mutating func indent(_ depth: Int) {
        var left = 2 * depth
        while left > 0 {
            let run = min(left, Self.spaces.count)
            bytes.append(contentsOf: Self.spaces[0..<run])
            left -= run
        }
    }

    /// Spaces to indent with, appended as one slice (a repeated element is appended byte by byte).
    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)
}
