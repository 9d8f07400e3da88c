import CKDiffTestSupport
import Foundation
import Testing

/// The committed `safetensors_cases/manifest.json`: the reference reader's verdict on
/// every malformed file and the exact contents of every valid one.
///
/// Test code may use Foundation's JSON reader; ckdiff's own parser is what is under test.
enum SafetensorsCaseManifest {
    /// A file the reference reader refuses.
    struct Malformed: Sendable, CustomTestStringConvertible {
        /// The path relative to `Tests/Fixtures/safetensors_cases`.
        var file: String
        /// The reference variant without its argument: `InvalidOffset` for `InvalidOffset("b")`.
        var variant: String
        /// The argument of a per-tensor variant: `b` for `InvalidOffset("b")`.
        var tensor: String?
        var whatIsWrong: String

        var path: String { Fixtures.path("safetensors_cases/" + file) }
        var testDescription: String { file }
    }

    /// One element of a valid tensor as the manifest writes it.
    enum Value: Sendable, Equatable {
        case boolean(Bool)
        /// An integer, as decimal text (I64 and U64 values exceed 2^53).
        case integer(String)
        /// A float, as Python's `repr` of the exact value (`"-0.0"`, `"inf"`, `"nan"`).
        case float(String)
    }

    /// One tensor of a valid file.
    struct Tensor: Sendable {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytesHex: String
        var values: [Value]
    }

    /// A file the reference reader loads.
    struct Valid: Sendable, CustomTestStringConvertible {
        var file: String
        var tensors: [Tensor]
        /// The `metadata` object, or nil when the manifest gives none.
        var metadata: [String: String]?

        var path: String { Fixtures.path("safetensors_cases/" + file) }
        var testDescription: String { file }
    }

    static let malformed: [Malformed] = load().malformed
    static let valid: [Valid] = load().valid

    private static func load() -> (malformed: [Malformed], valid: [Valid]) {
        let url = URL(fileURLWithPath: Fixtures.path("safetensors_cases/manifest.json"))
        guard let data = try? Data(contentsOf: url),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let malformedEntries = root["malformed"] as? [[String: Any]],
              let validEntries = root["valid"] as? [[String: Any]]
        else { return ([], []) }

        let malformed = malformedEntries.compactMap { entry -> Malformed? in
            guard let file = entry["file"] as? String, let expected = entry["expected_rust_error"] as? String else {
                return nil
            }
            var variant = expected
            var tensor: String?
            // `InvalidOffset("b")`: the variant, then the tensor name in quotes and parentheses.
            if let open = expected.firstIndex(of: "("), expected.hasSuffix("\")") {
                variant = String(expected[..<open])
                let argument = expected[expected.index(after: open)..<expected.index(before: expected.endIndex)]
                tensor = String(argument.dropFirst().dropLast())
            }
            return Malformed(file: file, variant: variant, tensor: tensor,
                             whatIsWrong: entry["what_is_wrong"] as? String ?? "")
        }

        let valid = validEntries.compactMap { entry -> Valid? in
            guard let file = entry["file"] as? String, let tensorsObject = entry["tensors"] as? [String: Any] else {
                return nil
            }
            var tensors: [Tensor] = []
            for (name, item) in tensorsObject {
                guard let info = item as? [String: Any],
                      let dtype = info["dtype"] as? String,
                      let shape = info["shape"] as? [Any],
                      let hex = info["bytes_le_hex"] as? String,
                      let rawValues = info["values_flat_c_order"] as? [Any]
                else { return nil }
                let dimensions = shape.compactMap { ($0 as? NSNumber)?.intValue }
                guard dimensions.count == shape.count else { return nil }
                let isFloat = ["F16", "BF16", "F32", "F64", "F8_E4M3", "F8_E5M2"].contains(dtype)
                var values: [Value] = []
                for raw in rawValues {
                    if dtype == "BOOL", let flag = raw as? Bool {
                        values.append(.boolean(flag))
                    } else if let text = raw as? String {
                        values.append(isFloat ? .float(text) : .integer(text))
                    } else if let number = raw as? NSNumber, !isFloat {
                        values.append(.integer(number.stringValue))
                    } else {
                        return nil
                    }
                }
                tensors.append(Tensor(name: name, dtype: dtype, shape: dimensions, bytesHex: hex, values: values))
            }
            return Valid(file: file, tensors: tensors.sorted { $0.name < $1.name },
                         metadata: entry["metadata"] as? [String: String])
        }
        return (malformed, valid)
    }
}
