import CKDiffTestSupport
import Foundation
import Testing
@testable import Checkpoints

/// Replays the committed fuzz corpus of the diffusers index target
/// (Tests/Fixtures/fuzz-regressions/index) as the target does: a folder listing whose first line is
/// the requested variant, a NUL, then a shard index; each is resolved or refused with a typed error.
@Suite("Opening: fuzz regression corpus of the variant resolver and shard index")
struct IndexFuzzRegressionTests {
    static let corpus = FuzzCorpus("index")
    static let names = corpus.names

    @Test("the corpus is there")
    func present() {
        #expect(Self.names.count >= 10)
    }

    @Test("every input is resolved or refused, never a crash", arguments: names)
    func replay(_ name: String) throws {
        let bytes = try Self.corpus.bytes(name)
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let lines = String(decoding: bytes[..<split], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let requested = lines.first.flatMap { $0.isEmpty ? nil : String($0) }
        let names = lines.dropFirst().compactMap { WeightFileName(String($0)) }
        if requested == nil || WeightFileName.isVariant(Substring(requested ?? "")) {
            let resolver = VariantResolver(component: "unet", folderPath: "/f/unet", errorPath: "/f", names: names)
            do { _ = try resolver.choose(requested: requested) } catch { #expect(!error.description.contains("\n")) }
        }
        guard split < bytes.count else { return }
        let scratch = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("index.json").path
        try Data(bytes[(split + 1)...]).write(to: URL(fileURLWithPath: path))
        do {
            let index = try ShardIndex.read(path)
            #expect(!index.weightMap.isEmpty)
        } catch {
            #expect(!error.description.contains("\n"))
        }
    }
}
