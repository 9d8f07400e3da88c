import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// Replays the committed fuzz corpus of the safetensors header target
/// (Tests/Fixtures/fuzz-regressions/safetensors) the way the target feeds it: each input is a whole
/// file, read or refused with a one-line error, and every tensor it locates lies inside it.
@Suite("Safetensors: fuzz regression corpus")
struct FuzzRegressionReplayTests {
    static let corpus = FuzzCorpus("safetensors")
    static let names = corpus.names

    @Test("the corpus is there")
    func present() {
        #expect(Self.names.count >= 10)
    }

    @Test("every input is read or refused, never a crash", arguments: names)
    func replay(_ name: String) throws {
        let bytes = try Self.corpus.bytes(name)
        guard bytes.count >= 8 else { return }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        let header = Array(bytes[8..<8 + Int(min(length, UInt64(bytes.count - 8)))])
        do {
            let file = try SafetensorsFile.parse(header: header, path: name, fileSize: Int64(bytes.count))
            for tensor in file.tensors {
                #expect(tensor.fileOffset >= 8 && tensor.fileOffset + Int64(tensor.byteCount) <= Int64(bytes.count))
            }
        } catch {
            #expect(!error.description.contains("\n"))
        }
    }
}
