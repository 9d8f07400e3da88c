import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// Every committed malformed and valid safetensors file against the reference reader's verdict.
@Suite("Reference cases")
struct ManifestCaseTests {
    typealias Manifest = SafetensorsCaseManifest

    @Test("The manifest lists every committed case file, and the parameterised tests see them all")
    func manifestCoversEveryFile() throws {
        let root = Fixtures.path("safetensors_cases")
        let onDisk = { (folder: String) throws -> Set<String> in
            Set(try FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)
                .filter { $0.hasSuffix(".safetensors") }.map { folder + "/" + $0 })
        }
        // The fixture README counts 27 malformed and 26 valid files.
        #expect(Manifest.malformed.count == 27)
        #expect(Manifest.valid.count == 26)
        #expect(Set(Manifest.malformed.map(\.file)) == (try onDisk("malformed")))
        #expect(Set(Manifest.valid.map(\.file)) == (try onDisk("valid")))
    }

    @Test("A malformed file is refused with the reference reader's error", arguments: Manifest.malformed)
    func malformedFileIsRefused(_ item: Manifest.Malformed) {
        let path = item.path
        let error = #expect(throws: SafetensorsError.self, "\(item.whatIsWrong)") {
            _ = try SafetensorsFile.open(path)
        }
        guard let error else { return }
        #expect(error.referenceVariant == item.variant, "\(error)")
        #expect(error.file == path)
        #expect(error.description.hasPrefix(path + ": "))
        #expect(!error.description.contains("\n"))
        if let tensor = item.tensor {
            #expect(error.tensor == tensor)
            #expect(error.description.contains("'\(tensor)'"))
        }
        // The message ends with the variant's name, so a user can look it up.
        #expect(error.description.hasSuffix("(\(item.variant))"))
    }

    @Test("A valid file opens with exactly the manifest's tensors, bytes and values", arguments: Manifest.valid)
    func validFileOpens(_ item: Manifest.Valid) throws {
        let file = try SafetensorsFile.open(item.path)
        #expect(file.path == item.path)

        // The tensor set: names, dtypes, shapes.
        let found = file.tensors.sorted { $0.name < $1.name }
        #expect(found.map(\.name) == item.tensors.map(\.name))
        #expect(found.map(\.dtype.rawValue) == item.tensors.map(\.dtype))
        #expect(found.map(\.shape) == item.tensors.map(\.shape))
        for tensor in item.tensors {
            #expect(file.tensor(named: tensor.name)?.name == tensor.name)
        }

        // The tensors are listed in data order and tile the data section exactly.
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: item.path)[.size] as? NSNumber).int64Value
        #expect(file.fileSize == fileSize)
        var next = Int64(8 + file.headerLength)
        for tensor in file.tensors {
            #expect(tensor.fileOffset == next, "\(tensor.name)")
            #expect(tensor.elementCount == tensor.shape.reduce(1, *), "\(tensor.name)")
            #expect(tensor.byteCount == tensor.elementCount * tensor.dtype.bitSize / 8, "\(tensor.name)")
            next = tensor.fileOffset + Int64(tensor.byteCount)
        }
        #expect(next == fileSize)

        // Raw bytes and decoded values.
        let reader = try ReadOnlyFile(path: item.path)
        for expected in item.tensors {
            let info = try #require(file.tensor(named: expected.name))
            let bytes = try reader.readBytes(count: info.byteCount, at: info.fileOffset)
            #expect(hex(bytes) == expected.bytesHex, "\(expected.name)")
            try checkValues(bytes: bytes, info: info, expected: expected.values)
        }

        // Metadata.
        if let metadata = item.metadata {
            #expect(file.hasMetadata)
            #expect(file.metadata.count == metadata.count)
            #expect(Dictionary(file.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) == metadata)
            for (key, value) in metadata { #expect(file.metadataValue(key) == value) }
        } else {
            // No `__metadata__`, or `"__metadata__": null` (unknown_fields_ignored).
            #expect(!file.hasMetadata)
            #expect(file.metadata.isEmpty)
        }
    }

    @Test("Metadata and names that need more than ASCII survive intact")
    func specificValidFiles() throws {
        let withMetadata = try SafetensorsFile.open(Fixtures.path("safetensors_cases/valid/with_metadata.safetensors"))
        #expect(withMetadata.metadataValue("unicode") == "\u{65E5}\u{672C}\u{8A9E} \u{2713}")
        #expect(withMetadata.metadataValue("empty") == "")
        #expect(withMetadata.metadataValue("json_in_string") == "{\"a\": [1, 2]}")
        #expect(withMetadata.metadataValue("absent") == nil)
        // Header order is kept: the writer put modelspec.title first.
        #expect(withMetadata.metadata.map(\.key) == ["modelspec.title", "empty", "json_in_string", "format", "unicode"])

        let noTensors = try SafetensorsFile.open(Fixtures.path("safetensors_cases/valid/no_tensors.safetensors"))
        #expect(noTensors.tensors.isEmpty && !noTensors.hasMetadata && noTensors.fileSize == 16)

        let metadataOnly = try SafetensorsFile.open(Fixtures.path("safetensors_cases/valid/metadata_only.safetensors"))
        #expect(metadataOnly.tensors.isEmpty)
        #expect(metadataOnly.hasMetadata)
        #expect(metadataOnly.metadata.map(\.key) == ["format"] && metadataOnly.metadataValue("format") == "pt")

        let unicode = try SafetensorsFile.open(Fixtures.path("safetensors_cases/valid/unicode_names.safetensors"))
        #expect(unicode.tensor(named: "\u{6A21}\u{578B}.\u{6743}\u{91CD}")?.shape == [2])
        #expect(unicode.tensor(named: "name with spaces/and:punct")?.dtype == .i32)

        let unknownFields = try SafetensorsFile.open(Fixtures.path("safetensors_cases/valid/unknown_fields_ignored.safetensors"))
        #expect(!unknownFields.hasMetadata)
        #expect(unknownFields.tensors.map(\.name) == ["w"])
    }

    // MARK: Values

    /// Checks the decoded values of one tensor against the manifest, through both decode overloads.
    private func checkValues(bytes: [UInt8], info: TensorInfo, expected: [Manifest.Value]) throws {
        let dtype = info.dtype
        #expect(expected.count == info.elementCount, "\(info.name)")
        guard expected.count == info.elementCount else { return }
        let count = expected.count
        var floats = [Float](repeating: .signalingNaN, count: count)
        var doubles = [Double](repeating: .signalingNaN, count: count)
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, count > 0 else { return }
            if dtype.fitsInFloat { floats.withUnsafeMutableBufferPointer { dtype.decode(base, count: count, into: $0.baseAddress!) } }
            doubles.withUnsafeMutableBufferPointer { dtype.decode(base, count: count, into: $0.baseAddress!) }
        }
        let label = "\(info.name) (\(dtype.rawValue))"
        for (i, value) in expected.enumerated() {
            switch value {
            case .boolean(let flag):
                #expect(dtype == .bool, "\(label)")
                #expect(bytes[i] == (flag ? 1 : 0), "\(label)[\(i)]")
                #expect(floats[i] == (flag ? 1 : 0), "\(label)[\(i)]")
                #expect(doubles[i] == (flag ? 1 : 0), "\(label)[\(i)]")

            case .float(let text):
                #expect(dtype.kind == .floatingPoint, "\(label)")
                let exact = try #require(Double(text), "\(label)[\(i)]: \(text)")
                if dtype == .f64 {
                    expectSame(doubles[i], exact, "\(label)[\(i)] = \(text)")
                } else {
                    // The manifest's values of narrower floats are exact in Float.
                    let asFloat = Float(exact)
                    #expect(exact.isNaN || Double(asFloat) == exact, "\(label)[\(i)] = \(text) is not a Float")
                    expectSame(floats[i], asFloat, "\(label)[\(i)] = \(text)")
                    expectSame(doubles[i], exact, "\(label)[\(i)] = \(text)")
                }

            case .integer(let text):
                #expect(dtype.kind == .integer, "\(label)")
                let width = dtype.bitSize / 8
                var raw: UInt64 = 0
                for b in (0..<width).reversed() { raw = raw << 8 | UInt64(bytes[i * width + b]) }
                let signed = [.i8, .i16, .i32, .i64].contains(dtype)
                if signed {
                    let expectedValue = try #require(Int64(text), "\(label)[\(i)]: \(text)")
                    let shift = UInt64(64 - 8 * width)
                    let value = Int64(bitPattern: raw << shift) >> shift   // sign-extend
                    #expect(value == expectedValue, "\(label)[\(i)]")
                    #expect(doubles[i] == Double(expectedValue), "\(label)[\(i)]")
                    if dtype.fitsInFloat { #expect(floats[i] == Float(expectedValue), "\(label)[\(i)]") }
                } else {
                    let expectedValue = try #require(UInt64(text), "\(label)[\(i)]: \(text)")
                    #expect(raw == expectedValue, "\(label)[\(i)]")
                    #expect(doubles[i] == Double(expectedValue), "\(label)[\(i)]")
                    if dtype.fitsInFloat { #expect(floats[i] == Float(expectedValue), "\(label)[\(i)]") }
                }
            }
        }
    }

    private func expectSame<F: BinaryFloatingPoint>(_ actual: F, _ expected: F, _ label: String,
                                                     sourceLocation: SourceLocation = #_sourceLocation) {
        if expected.isNaN {
            #expect(actual.isNaN, "\(label): got \(actual)", sourceLocation: sourceLocation)
        } else {
            #expect(actual == expected && actual.sign == expected.sign,
                    "\(label): got \(actual)", sourceLocation: sourceLocation)
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
