/// A JSON value read by ``StrictJSONParser``, with object members kept in file order.
///
/// ckdiff parses every file it is given with this type rather than Foundation's
/// decoders, because it must see what those hide: duplicate member names, the
/// exact spelling of numbers, and nesting depth.
package indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, kept as its literal text so that integers are never rounded.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's type, for messages ("object", "string", …).
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    package var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The value as a non-negative integer, if it is an integer literal that fits in 64 bits.
    ///
    /// `1.0`, `1e3`, `-1` and literals above 2^64 − 1 give nil, as a `u64` field of
    /// serde would refuse them.
    package var uint64Value: UInt64? {
        guard case .number(let text) = self else { return nil }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }

    /// The value as a `Double`, if it is a number.
    package var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }
}

/// The members of a JSON object, in the order the file lists them, duplicates included.
package struct JSONObject: Sendable, Equatable {
    package var members: [(key: String, value: JSONValue)]

    package init(members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    /// The value of the last member with this name, which is what serde and most readers keep.
    package subscript(key: String) -> JSONValue? {
        members.last(where: { $0.key == key })?.value
    }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
