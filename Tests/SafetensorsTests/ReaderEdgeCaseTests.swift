import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// Files built byte by byte in a temporary directory, for the cases the committed corpus leaves out.
///
/// Where a comment says what the reference reader does, it was observed with the Python
/// `safetensors` 0.8.0 binding (`safe_open`) on the same bytes.
@Suite("Reader edge cases")
struct ReaderEdgeCaseTests {
    /// `{"dtype":"F32","shape":[1],"data_offsets":[b,e]}`.
    static func f32Entry(_ begin: Int, _ end: Int) -> String {
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\(begin),\(end)]}"
    }

    static let oneFloat: [UInt8] = [0x00, 0x00, 0x80, 0x3f]   // 1.0

    /// A scratch directory, removed when the test ends.
    final class Scratch {
        let url: URL
        init() throws { url = try Fixtures.temporaryDirectory("ckdiff-sttests") }
        deinit { try? FileManager.default.removeItem(at: url) }

        /// Writes the 8-byte length, `header` as UTF-8 and `data`; returns the path.
        func file(_ name: String = "case.safetensors", header: String, data: [UInt8] = []) throws -> String {
            try file(name, headerBytes: Array(header.utf8), data: data)
        }

        func file(_ name: String = "case.safetensors", headerBytes: [UInt8], data: [UInt8] = []) throws -> String {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes += $0 }
            let path = url.appendingPathComponent(name).path
            try Data(bytes + headerBytes + data).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// A file of `size` bytes that starts with the 8-byte `length` and is a hole after it.
        func sparse(_ name: String, length: UInt64, size: UInt64) throws -> String {
            let path = url.appendingPathComponent(name).path
            var prefix: [UInt8] = []
            withUnsafeBytes(of: length.littleEndian) { prefix += $0 }
            try Data(prefix).write(to: URL(fileURLWithPath: path))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: size)
            try handle.close()
            return path
        }
    }

    /// Opens `path`, expecting a refusal; returns the error.
    @discardableResult
    func refusal(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> SafetensorsError? {
        let error = #expect(throws: SafetensorsError.self, sourceLocation: sourceLocation) { _ = try SafetensorsFile.open(path) }
        if let error {
            #expect(error.file == path, sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix(path + ": "), sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        }
        return error
    }

    // MARK: Duplicates

    @Test("A tensor listed twice with consistent offsets is refused, though the reference keeps the last")
    func duplicateTensorConsistentOffsets() throws {
        let scratch = try Scratch()
        // Reference: loads, one tensor 'a'.
        let path = try scratch.file(header: "{\"a\":\(Self.f32Entry(0, 4)),\"a\":\(Self.f32Entry(0, 4))}", data: Self.oneFloat)
        let error = try #require(refusal(path))
        #expect(error.kind == .duplicateTensorName(count: 2))
        #expect(error.tensor == "a")
        #expect(error.referenceVariant == nil)
        #expect(error.description.contains("'a'"))
    }

    @Test("A repeated tensor whose last entry breaks the layout fails the reference check first")
    func duplicateTensorSwapped() throws {
        let scratch = try Scratch()
        // The manifest's duplicate_tensor_name with the entries swapped: the last 'a' is [0, 4], so the
        // data ends at 4 while the file holds 8 (the manifest's note; the reference says MetadataIncompleteBuffer).
        let path = try scratch.file(header: "{\"a\":\(Self.f32Entry(4, 8)),\"a\":\(Self.f32Entry(0, 4))}",
                                    data: Self.oneFloat + Self.oneFloat)
        #expect(refusal(path)?.referenceVariant == "MetadataIncompleteBuffer")
    }

    @Test("A repeated __metadata__ key is refused after the reference checks; the reference keeps the last")
    func duplicateMetadataKey() throws {
        let scratch = try Scratch()
        let path = try scratch.file(header: "{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"},\"a\":\(Self.f32Entry(0, 4))}",
                                    data: Self.oneFloat)
        let error = try #require(refusal(path))
        #expect(error.kind == .duplicateMetadataKey("k"))
        #expect(error.referenceVariant == nil)
        #expect(error.tensor == nil)
        #expect(error.description.contains("'k'"))

        // A reference failure in the same header wins, as the reference would report it.
        let broken = try scratch.file("broken.safetensors",
                                      header: "{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"},\"a\":\(Self.f32Entry(4, 8))}",
                                      data: Self.oneFloat)
        #expect(refusal(broken)?.referenceVariant == "InvalidOffset")
    }

    @Test("A second __metadata__ entry is a deserialization error at once, like serde's duplicate field")
    func duplicateMetadataEntry() throws {
        let scratch = try Scratch()
        for (i, second) in ["{\"k\":\"w\"}", "null"].enumerated() {
            // The tensor's offsets are wrong too; the reference reports the duplicate field, not InvalidOffset.
            let path = try scratch.file("m\(i).safetensors",
                                        header: "{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":\(second),\"a\":\(Self.f32Entry(4, 8))}",
                                        data: Self.oneFloat)
            let error = try #require(refusal(path))
            #expect(error.referenceVariant == "InvalidHeaderDeserialization", "\(error)")
        }
    }

    @Test("A repeated dtype, shape or data_offsets field in one entry is refused; repeated unknown fields are not")
    func duplicateFieldInEntry() throws {
        let scratch = try Scratch()
        let cases = [
            "{\"dtype\":\"F16\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
            "{\"dtype\":\"F32\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,4]}",
            "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"data_offsets\":[0,4]}",
        ]
        for (i, entry) in cases.enumerated() {
            let path = try scratch.file("f\(i).safetensors", header: "{\"a\":\(entry)}", data: Self.oneFloat)
            let error = try #require(refusal(path))
            #expect(error.referenceVariant == "InvalidHeaderDeserialization", "\(error)")
            #expect(error.tensor == "a")
        }
        let unknown = try scratch.file("u.safetensors",
                                       header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1,\"x\":[2]}}",
                                       data: Self.oneFloat)
        #expect(try SafetensorsFile.open(unknown).tensors.map(\.name) == ["a"])
    }

    // MARK: Header length

    @Test("A header of exactly 100,000,000 bytes passes the length checks and fails as JSON")
    func headerAtTheLimit() throws {
        let scratch = try Scratch()
        let limit = SafetensorsFile.maximumHeaderLength
        #expect(limit == 100_000_000)

        // The whole header is a hole (NUL bytes): it passes both length checks and is refused as JSON.
        let atLimit = try scratch.sparse("limit.safetensors", length: limit, size: 8 + limit)
        let error = try #require(refusal(atLimit))
        #expect(error.referenceVariant == "InvalidHeaderDeserialization", "\(error)")

        // One byte short of the file: the length limit passed, the file-length check did not.
        let short = try scratch.sparse("short.safetensors", length: limit, size: 8 + limit - 1)
        #expect(refusal(short)?.kind == .invalidHeaderLength(length: limit, fileSize: Int64(7 + limit)))

        // One byte over the limit is too large, however long the file.
        let over = try scratch.sparse("over.safetensors", length: limit + 1, size: 8 + limit + 1)
        #expect(refusal(over)?.kind == .headerTooLarge(length: limit + 1))
    }

    @Test("A header of spaces only, or of a JSON value other than an object, is a deserialization error")
    func blankHeader() throws {
        let scratch = try Scratch()
        for (i, header) in ["        ", "null", "\"x\"", "3", "{} {}"].enumerated() {
            let path = try scratch.file("h\(i).safetensors", header: header)
            #expect(refusal(path)?.referenceVariant == "InvalidHeaderDeserialization", "\(header)")
        }
    }

    // MARK: Nesting

    @Test("Nesting is limited like serde_json: 127 levels load, 128 and 10,000 are refused cleanly")
    func nestingDepth() throws {
        let scratch = try Scratch()
        // The root object and the tensor entry are two levels; the unknown field adds the rest.
        func header(depth: Int) -> String {
            let n = depth - 2
            return "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":"
                + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}}"
        }
        let ok = try scratch.file("d127.safetensors", header: header(depth: 127), data: Self.oneFloat)
        #expect(try SafetensorsFile.open(ok).tensors.count == 1)
        for depth in [128, 10_000] {
            let path = try scratch.file("d\(depth).safetensors", header: header(depth: depth), data: Self.oneFloat)
            let error = try #require(refusal(path))
            #expect(error.referenceVariant == "InvalidHeaderDeserialization", "\(error)")
        }
        // Unclosed nesting, a million deep, in the header: refused without recursing that deep.
        let unclosed = try scratch.file("open.safetensors", header: "{\"x\":" + String(repeating: "[", count: 1_000_000))
        #expect(refusal(unclosed)?.referenceVariant == "InvalidHeaderDeserialization")
    }

    // MARK: Shapes and offsets

    @Test("Element and byte counts that overflow 64 bits are ValidationOverflow, checked left to right")
    func shapeOverflow() throws {
        let scratch = try Scratch()
        let cases: [(shape: String, variant: String?)] = [
            ("[4611686018427387904,4]", "ValidationOverflow"),    // 2^62 × 4 elements
            ("[4611686018427387904]", "ValidationOverflow"),      // 2^62 elements × 32 bits
            ("[9223372036854775808,2,0]", "ValidationOverflow"),  // overflows before the 0 is reached
            ("[0,9223372036854775808,2]", nil),                   // 0 first: 0 elements, loads
            ("[18446744073709551615,0]", nil),                    // 2^64 − 1 is a valid usize; 0 elements
            ("[18446744073709551616]", "InvalidHeaderDeserialization"),  // not a usize
            ("[1.0]", "InvalidHeaderDeserialization"),
            ("[-0]", "InvalidHeaderDeserialization"),
            ("[\"1\"]", "InvalidHeaderDeserialization"),
        ]
        for (i, item) in cases.enumerated() {
            let path = try scratch.file("s\(i).safetensors",
                                        header: "{\"t\":{\"dtype\":\"F32\",\"shape\":\(item.shape),\"data_offsets\":[0,0]}}")
            if let variant = item.variant {
                let error = try #require(refusal(path), "\(item.shape)")
                #expect(error.referenceVariant == variant, "\(item.shape): \(error)")
                if variant == "ValidationOverflow" { #expect(error.tensor == "t") }
            } else {
                let file = try SafetensorsFile.open(path)
                #expect(file.tensors.first?.elementCount == 0 && file.tensors.first?.byteCount == 0, "\(item.shape)")
            }
        }
    }

    @Test("Offsets past the end of the file, or that cannot match the shape, are refused")
    func offsetsBeyondFile() throws {
        let scratch = try Scratch()
        let beyond = try scratch.file("beyond.safetensors",
                                      header: "{\"a\":\(Self.f32Entry(0, 4)),\"b\":\(Self.f32Entry(4, 8))}", data: Self.oneFloat)
        let error = try #require(refusal(beyond))
        #expect(error.referenceVariant == "MetadataIncompleteBuffer")
        #expect(error.description.contains("truncated"))

        let huge = try scratch.file("huge.safetensors",
                                    header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}",
                                    data: Self.oneFloat)
        #expect(refusal(huge)?.referenceVariant == "TensorInvalidInfo")

        let hugeBoth = try scratch.file("hugeboth.safetensors",
                                        header: "{\"a\":{\"dtype\":\"U8\",\"shape\":[2305843009213693951],\"data_offsets\":[0,2305843009213693951]}}",
                                        data: Self.oneFloat)
        #expect(refusal(hugeBoth)?.referenceVariant == "MetadataIncompleteBuffer")
    }

    @Test("Zero-element and 0-rank tensors share offsets and load in data order")
    func zeroSizeAndScalar() throws {
        let scratch = try Scratch()
        let header = """
            {"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},\
            "b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},\
            "c":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},\
            "d":{"dtype":"I8","shape":[3,0],"data_offsets":[4,4]}}
            """
        let path = try scratch.file(header: header, data: Self.oneFloat)
        let file = try SafetensorsFile.open(path)
        let dataStart = Int64(8 + header.utf8.count)
        #expect(file.tensors.map(\.name) == ["c", "a", "b", "d"])
        #expect(file.tensors.map(\.fileOffset) == [dataStart, dataStart, dataStart + 4, dataStart + 4])
        #expect(file.tensors.map(\.elementCount) == [0, 1, 0, 0])
        #expect(file.tensors.map(\.byteCount) == [0, 4, 0, 0])
        #expect(file.tensor(named: "a")?.shape == [])
        #expect(file.tensor(named: "a")?.shapeDescription == "[]")
        #expect(file.tensor(named: "d")?.shape == [3, 0])

        let reader = try ReadOnlyFile(path: path)
        let a = try #require(file.tensor(named: "a"))
        #expect(try reader.readBytes(count: a.byteCount, at: a.fileOffset) == Self.oneFloat)
        let d = try #require(file.tensor(named: "d"))
        #expect(try reader.readBytes(count: d.byteCount, at: d.fileOffset) == [])
    }

    @Test("Nothing is aligned: an odd header length and tensors at odd offsets decode correctly")
    func unalignedOffsets() throws {
        let scratch = try Scratch()
        let header = "{\"c\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[9,11]},"
            + "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            + "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[1,9]}} "
        #expect(header.utf8.count % 2 == 1)
        var data: [UInt8] = [7]
        withUnsafeBytes(of: (-1.5).bitPattern.littleEndian) { data += $0 }
        withUnsafeBytes(of: Int16(-300).littleEndian) { data += $0 }
        let path = try scratch.file(header: header, data: data)
        let file = try SafetensorsFile.open(path)
        #expect(file.tensors.map(\.name) == ["a", "b", "c"])

        let reader = try ReadOnlyFile(path: path)
        // Decode straight from one buffer holding the whole data section, at the tensors' odd offsets.
        let first = file.tensors[0].fileOffset
        let section = try reader.readBytes(count: data.count, at: first)
        var values: [Double] = []
        section.withUnsafeBytes { raw in
            for tensor in file.tensors {
                var value = Double.nan
                tensor.dtype.decode(raw.baseAddress! + Int(tensor.fileOffset - first), count: 1, into: &value)
                values.append(value)
            }
        }
        #expect(values == [7, -1.5, -300])
    }

    // MARK: I/O

    @Test("A directory, a device and a missing path are I/O errors naming the path")
    func notAFile() throws {
        let scratch = try Scratch()
        for path in [scratch.url.path, "/dev/null", scratch.url.appendingPathComponent("missing.safetensors").path] {
            let error = try #require(refusal(path))
            guard case .io = error.kind else {
                Issue.record("\(path): \(error.kind)")
                continue
            }
            #expect(error.referenceVariant == nil)
        }
        #expect(refusal(scratch.url.path)?.description.contains("directory") == true)
    }

    @Test("A file truncated after it was opened gives an I/O error on read, not a crash")
    func truncatedAfterOpening() throws {
        let scratch = try Scratch()
        let values = (0..<1024).map { Float($0) }
        let path = scratch.url.appendingPathComponent("t.safetensors").path
        try SafetensorsWriter.write([.f32("w", [1024], values)], to: path)
        let file = try SafetensorsFile.open(path)
        let reader = try ReadOnlyFile(path: path)
        let w = try #require(file.tensor(named: "w"))
        #expect(try reader.readBytes(count: 16, at: w.fileOffset) == [0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(w.fileOffset) + 100)
        try handle.close()

        let error = #expect(throws: SafetensorsError.self) { _ = try reader.readBytes(count: w.byteCount, at: w.fileOffset) }
        if let error {
            guard case .io = error.kind else { Issue.record("\(error.kind)"); return }
            #expect(error.file == path)
            #expect(error.description.contains("truncated"))
        }
        // Opening it again finds the short file from its header.
        #expect(refusal(path)?.referenceVariant == "MetadataIncompleteBuffer")
    }
}
