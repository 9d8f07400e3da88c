import CKDiffTestSupport
import Checkpoints
import Comparison
import Foundation
@testable import Reporting
import Testing

/// Values that exercise every path of the encoder: escapes, nesting, empty containers, nil,
/// number spellings, and key orders where `_` sorts before letters.
private struct Sample: Codable, Equatable {
    struct Inner: Codable, Equatable {
        var z_last: Int
        var a_first: [Double]
        var Upper: Bool
    }

    var text = "quote \" backslash \\ newline \n tab \t bell \u{07} unit \u{1F} slash / é 😀"
    var empty = ""
    var numbers: [Double] = [0, -0.0, 0.1, 1e-05, 5, 1e16, 1.5e300, 5e-324, -2.5, 123456789.125]
    var floats: [Float] = [0.1, 3, 1e-7, -65504]
    var integers: [Int] = [0, -1, .max, .min]
    var int64: Int64 = -9_007_199_254_740_993
    var nested: [[Int]] = [[], [1], [2, 3]]
    var emptyObject: [String: Int] = [:]
    var dictionary: [String: Int] = ["b": 2, "a_b": 3, "a": 1, "ab": 4, "A": 5]
    var inner = Inner(z_last: 1, a_first: [], Upper: true)
    var inners: [Inner] = [Inner(z_last: 2, a_first: [1.25], Upper: false)]
    var absent: Int?
    var present: String? = "here"
}

/// A type that writes a key twice, a `nil` through `encodeNil`, and goes through `superEncoder`.
private struct Unusual: Encodable {
    enum Keys: String, CodingKey { case twice, nothing, base, list }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .twice)
        try container.encode("second", forKey: .twice)
        try container.encodeNil(forKey: .nothing)
        try Sample.Inner(z_last: 7, a_first: [], Upper: false).encode(to: container.superEncoder(forKey: .base))
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try list.encode(true)
    }
}

/// `value` through Foundation's `JSONEncoder` with the options ckdiff's reports use, and the final
/// newline: the reference the encoder is held to.
private func foundationJSON<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(0x0a)
    return data
}

@Suite("Report JSON encoder")
struct ReportJSONTests {
    private func pretty<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try ReportJSON.encode(value), as: UTF8.self)
    }

    private func foundation<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try foundationJSON(value), as: UTF8.self)
    }

    @Test("escapes, nesting, empty containers, nil and numbers: the same bytes as Foundation's encoder, and the value reads back")
    func sample() throws {
        let value = Sample()
        let text = try pretty(value)
        #expect(text == (try foundation(value)))
        #expect(try JSONDecoder().decode(Sample.self, from: Data(text.utf8)) == value)
        #expect(text.contains(#""text" : "quote \" backslash \\ newline \n tab \t bell \u0007 unit \u001f slash / é 😀""#))
        #expect(text.hasSuffix("}\n"))
    }

    @Test("a key written twice keeps the last value, as in Foundation's encoder")
    func unusual() throws {
        let text = try pretty(Unusual())
        #expect(text == (try foundation(Unusual())))
        #expect(text.contains(#""twice" : "second""#) && !text.contains(#""twice" : 1"#))
    }

    @Test("NaN and infinities throw, naming where they are", arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(value: Double) {
        #expect(throws: EncodingError.self) { try ReportJSON.encode(["x": [value]]) }
        #expect(throws: EncodingError.self) { try ReportJSON.encode(Float(value)) }
    }

    @Test("reports of the reference pairs, diagnosed: the same bytes as Foundation's encoder",
          arguments: [
              ("single_file/sdxl_tiny_sgm_fp32.safetensors", "sdxl_tiny_diffusers"),
              ("single_file/sd15_tiny_ldm_fp32.safetensors", "single_file/sd15_tiny_ldm_fp16.safetensors"),
          ])
    func referenceReports(a pathA: String, b pathB: String) throws {
        let a = try Checkpoint.open(Fixtures.path("reference/\(pathA)"))
        let b = try Checkpoint.open(Fixtures.path("reference/\(pathB)"))
        let plan = Alignment.aligning(a, b)
        let options = ComparisonOptions(threads: 2)
        let comparisons = try Comparator(options: options).compare(plan)
        let diagnosis = try Diagnoser(plan, options: options).run(comparisons)
        let report = ComparisonReport(plan, identities: (a.identify(), b.identify()), comparisons: comparisons,
                                      tolerance: nil, diagnosis: diagnosis, policy: Policy.default)
        let ours = try report.jsonData()
        #expect(ours == (try foundationJSON(report)))
        #expect(ours.count > 100_000)
        let inspect = InspectReport(a, identity: a.identify(), scan: nil)
        #expect(try inspect.jsonData() == (try foundationJSON(inspect)))
        #expect(try Policy.default.jsonData() == (try foundationJSON(Policy.default)))
    }
}
