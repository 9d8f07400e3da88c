import CKDiffJSON
import CKDiffTestSupport
import Foundation
@testable import Safetensors
import Testing

/// Hostile headers of the second round (issue 20): work that a tiny file could multiply, and
/// messages that could drive a terminal.
@Suite("Hostile headers")
struct HostileHeaderTests {
    typealias Scratch = ReaderEdgeCaseTests.Scratch

    static func f32Entry(_ begin: Int, _ end: Int) -> String { ReaderEdgeCaseTests.f32Entry(begin, end) }

    /// Opens `path`, expecting a refusal with one printable line that names the file.
    func refusal(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> SafetensorsError? {
        let error = #expect(throws: SafetensorsError.self, sourceLocation: sourceLocation) { _ = try SafetensorsFile.open(path) }
        if let error { Self.expectPrintableLine(error.description, sourceLocation: sourceLocation) }
        return error
    }

    /// No control character (C0, DEL, C1) in `text`, so it is one line that cannot drive a terminal.
    static func expectPrintableLine(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let controls = text.unicodeScalars.filter { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
        #expect(controls.isEmpty, "control characters \(controls.map(\.value)) in \(text.debugDescription)", sourceLocation: sourceLocation)
    }

    // MARK: Repeated __metadata__ keys

    @Test("100,000 repeats of one __metadata__ key are refused after one pass over the members")
    func repeatedMetadataKeys() throws {
        let repeats = 100_000
        let members = (0..<repeats).map { i in "\"k\":\"\(i)\"" }.joined(separator: ",")
        let scratch = try Scratch()
        let path = try scratch.file(header: "{\"__metadata__\":{\(members)},\"a\":\(Self.f32Entry(0, 4))}",
                                    data: ReaderEdgeCaseTests.oneFloat)
        // Before the fix each repeat rescanned the list (25,000 repeats took 31 s, 100,000 eight minutes).
        let error = try #require(refusal(path))
        #expect(error.kind == .duplicateMetadataKey("k"))

        // The work is one step per member, whatever the repeats.
        let parsed = try StrictJSONParser.parse(Array("{\(members)}".utf8))
        let object = try #require(parsed.objectValue)
        let collected = try SafetensorsFile.collectMetadata(object.members) { detail, _ in
            SafetensorsError(file: path, kind: .invalidHeaderDeserialization(detail))
        }
        #expect(collected.steps == repeats)
        #expect(collected.firstDuplicate == "k")
        #expect(collected.entries.count == 1)
    }

    // MARK: Messages

    @Test("An unknown dtype with terminal escapes is echoed with them replaced, on one line", arguments: [
        "ZZZ\u{1B}]0;pwned\u{07}", "F32\r\nA", "X\u{9B}31m", "E\u{202E}VIL",
    ])
    func escapedDType(_ dtype: String) throws {
        let scratch = try Scratch()
        let escapedJSON = dtype.unicodeScalars.map { $0.value < 0x20 || $0.value >= 0x7F ? String(format: "\\u%04x", $0.value) : String($0) }.joined()
        let path = try scratch.file(header: "{\"a\":{\"dtype\":\"\(escapedJSON)\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                    data: ReaderEdgeCaseTests.oneFloat)
        let error = try #require(refusal(path))
        #expect(error.description.contains("unknown dtype '"), "\(error)")
        #expect(!error.description.unicodeScalars.contains { (0x202A...0x202E).contains($0.value) })
    }

    @Test("A tensor name with ESC, BEL, CR and LF is echoed printable in the error")
    func escapedTensorName() throws {
        let scratch = try Scratch()
        let name = "w\\u001b[2J\\u0007\\r\\nx"
        let path = try scratch.file(header: "{\"\(name)\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                                    data: ReaderEdgeCaseTests.oneFloat)
        let error = try #require(refusal(path))
        #expect(error.description.contains("tensor 'w?[2J???x'"), "\(error)")
    }

    @Test("A 100,000-digit shape is echoed as its first digits and its length, not in a 100 KB line")
    func longNumberEchoed() throws {
        let scratch = try Scratch()
        let digits = String(repeating: "9", count: 100_000)
        let path = try scratch.file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[\(digits)],\"data_offsets\":[0,4]}}",
                                    data: ReaderEdgeCaseTests.oneFloat)
        let error = try #require(refusal(path))
        #expect(error.description.count < 500, "\(error.description.count) characters")
        #expect(error.description.contains("(a number of 100000 characters)"))
    }

    @Test("Printable keeps ordinary text, replaces controls and cuts long values after looking at a bounded prefix")
    func printable() {
        #expect(Printable.text("model.diffusion_model.in.0 weight") == "model.diffusion_model.in.0 weight")
        #expect(Printable.text("a\u{1B}b\u{07}c\td\u{85}e\u{2028}f") == "a?b?c?d?e?f")
        #expect(Printable.text(String(repeating: "x", count: 1_000_000), limit: 5) == "xxxxx…")
        #expect(Printable.text("e\u{301}", limit: 1) == "e…")
        #expect(Printable.list([1, 2, 3]) == "[1, 2, 3]")
        #expect(Printable.list(Array(0..<100), limit: 2) == "[0, 1, … 98 more]")
    }
}
