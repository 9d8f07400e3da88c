import Safetensors
import CKDiffTestSupport
import Foundation
import Testing
import TorchPickle

/// Replays the committed fuzz corpus (Tests/Fixtures/fuzz-regressions/torch: inputs the fuzzer
/// kept for new coverage, and any crash it ever found) through the reader: each is read or
/// refused with a typed error, and every tensor it locates lies inside the input.
@Suite("TorchPickle: fuzz regression corpus")
struct FuzzRegressionTests {
    static let corpus = FuzzCorpus("torch")
    static let names = corpus.names

    @Test("the corpus is there")
    func present() {
        #expect(Self.names.count >= 10)
    }

    @Test("every input is read or refused, never a crash", arguments: names)
    func replay(_ name: String) throws {
        let bytes = try Self.corpus.bytes(name)
        do {
            let file = try TorchCheckpointFile.read(from: MemoryBytes(bytes), path: name)
            for tensor in file.tensors {
                #expect(tensor.fileOffset >= 0 && tensor.fileOffset + Int64(tensor.byteCount) <= Int64(bytes.count))
            }
        } catch {
            #expect(!error.description.contains("\n"))
        }
    }
}
