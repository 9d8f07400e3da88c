import CKDiffJSON
import Safetensors
import Testing

/// The header parser accepts what serde_json accepts and nothing more.
@Suite("Strict JSON parser")
struct StrictJSONParserTests {
    func parse(_ text: String) throws(StrictJSONParser.Failure) -> JSONValue {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    func refuses(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: StrictJSONParser.Failure.self, "\(bytes)", sourceLocation: sourceLocation) {
            _ = try StrictJSONParser.parse(bytes)
        }
    }

    func refuses(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: StrictJSONParser.Failure.self, "\(text.debugDescription)", sourceLocation: sourceLocation) {
            _ = try parse(text)
        }
    }

    @Test("Values of every type, with object members kept in order, duplicates included")
    func values() throws {
        let value = try parse(#"{"b":[true,false,null],"a":"x","b":-1.5e+3,"c":{}}"#)
        let object = try #require(value.objectValue)
        #expect(object.members.map(\.key) == ["b", "a", "b", "c"])
        #expect(object.members[0].value == .array([.bool(true), .bool(false), .null]))
        #expect(object["b"] == .number("-1.5e+3"))   // the last of a repeated name
        #expect(object["a"]?.stringValue == "x")
        #expect(object["c"] == .object(JSONObject(members: [])))
        #expect(object["missing"] == nil)
        #expect(try parse("[]") == .array([]))
    }

    @Test("String escapes")
    func escapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u00E9 \u0000 \u20ac""#) == .string("\u{E9}\u{E9} \u{0} \u{20AC}"))
        #expect(try parse("\"\u{65E5}\u{672C} \u{1F600}\"") == .string("\u{65E5}\u{672C} \u{1F600}"))
        #expect(try parse("\"a\u{7F}b\"") == .string("a\u{7F}b"))   // DEL is not a control character in JSON
        for bad in [#""\x""#, #""\'""#, #""\u12""#, #""\u12G4""#, #""\"#, #""abc"#, #""\U0041""#] {
            refuses(bad)
        }
    }

    @Test("Surrogate pairs combine; lone or mismatched surrogates are refused")
    func surrogates() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("\u{1F600}"))
        #expect(try parse(#""\uD834\uDD1E""#) == .string("\u{1D11E}"))
        #expect(try parse(#""\udbff\udfff""#) == .string("\u{10FFFF}"))
        for bad in [#""\ud800""#, #""\ud800x""#, #""\udc00""#, #""\ude00\ud83d""#, #""\ud800\u0041""#,
                    #""\ud800\ud800""#, #""\ud800\n""#] {
            refuses(bad)
        }
    }

    @Test("Raw control characters in strings are refused", arguments: Array(0x00..<0x20))
    func controlCharacters(byte: Int) {
        refuses([0x22, 0x61, UInt8(byte), 0x22])
    }

    @Test("Invalid UTF-8 and a byte-order mark are refused")
    func encoding() {
        refuses([0x22, 0xFF, 0x22])
        refuses([0x22, 0xC0, 0xAF, 0x22])          // overlong '/'
        refuses([0x22, 0xED, 0xA0, 0x80, 0x22])    // an encoded surrogate
        refuses([0xEF, 0xBB, 0xBF, 0x7B, 0x7D])    // BOM then {}
        #expect(StrictJSONParser.isValidUTF8Array([0xE2, 0x9C, 0x93]))
        #expect(!StrictJSONParser.isValidUTF8Array([0xE2, 0x9C]))
    }

    @Test("Whitespace: space, tab, LF and CR around values are fine; nothing else is")
    func whitespace() throws {
        #expect(try parse(" \t\n\r{ \"a\" : [ 1 , 2 ] }\r\n\t ") == parse(#"{"a":[1,2]}"#))
        for bad in ["\u{0C}{}", "{}\u{0C}", "{}\u{0}", "{}\u{A0}", "\u{A0}{}", "\u{0B}{}", "", "   "] {
            refuses(bad)
        }
    }

    @Test("Trailing commas, comments, bare words and trailing values are refused")
    func syntax() {
        for bad in ["[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{'a':1}",
                    "[1]//", "/*x*/[1]", "[1] [2]", "{} x", "tru", "nul", "True", "NaN", "Infinity", "[", "{\"a\":1"] {
            refuses(bad)
        }
    }

    @Test("Numbers follow RFC 8259 and keep their spelling")
    func numbers() throws {
        for good in ["0", "-0", "1", "-1", "1e5", "1E+5", "1e-5", "0.5", "-0.0", "123456789012345678901234567890", "2.5e-3"] {
            #expect(try parse(good) == .number(good))
            #expect(try parse("[\(good)]") == .array([.number(good)]))
        }
        for bad in ["01", "-01", "00", "+1", ".5", "1.", "1e", "1e+", "-", "--1", "0x10", "1.5.2", "- 1", "1_000"] {
            refuses(bad)
        }
    }

    @Test("uint64Value takes integer literals from 0 to 2^64 − 1 only")
    func uint64Value() throws {
        #expect(try parse("0").uint64Value == 0)
        #expect(try parse("42").uint64Value == 42)
        #expect(try parse("18446744073709551615").uint64Value == UInt64.max)
        for text in ["18446744073709551616", "99999999999999999999999", "1.0", "1e3", "-1", "-0", "0.0"] {
            #expect(try parse(text).uint64Value == nil, "\(text)")
        }
        #expect(JSONValue.string("1").uint64Value == nil)
        #expect(JSONValue.bool(true).uint64Value == nil)
        #expect(JSONValue.null.uint64Value == nil)
    }

    @Test("Nesting: 127 levels parse, 128 do not, and very deep input fails without recursing")
    func depth() throws {
        func nested(_ n: Int) -> String { String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        func nestedObjects(_ n: Int) -> String { String(repeating: "{\"a\":", count: n - 1) + "{}" + String(repeating: "}", count: n - 1) }
        #expect(StrictJSONParser.maximumDepth == 127)
        _ = try parse(nested(127))
        _ = try parse(nestedObjects(127))
        refuses(nested(128))
        refuses(nestedObjects(128))
        refuses(nested(100_000))
        refuses(String(repeating: "[", count: 1_000_000))
        // Depth counts open containers, not all containers seen: many siblings are fine.
        _ = try parse("[" + Array(repeating: nested(126), count: 1000).joined(separator: ",") + "]")
    }

    @Test("A failure says where")
    func failureOffset() {
        do {
            _ = try parse("[1, 2, x]")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 7)
            #expect(error.description.contains("at byte 7"))
        }
    }
}

extension StrictJSONParser {
    static func isValidUTF8Array(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }
}
