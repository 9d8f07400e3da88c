import CKDiffTestSupport
import Foundation
import Safetensors
import Testing
@testable import TorchPickle

/// Files written by the real torch.save (Tests/Fixtures/ckpt, see its README), checked against the
/// safetensors twins `safetensors.torch.save_file` wrote from the same tensors.
@Suite("TorchPickle: files torch.save wrote")
struct TorchFileTests {
    static func fixture(_ name: String) -> String { Fixtures.path("ckpt/" + name) }

    @Test("every tensor has its twin's name, dtype, shape and bytes", arguments: [
        ("dtypes.pt", "dtypes.safetensors"), ("zip64.pt", "dtypes.safetensors"), ("legacy.pt", "legacy.safetensors"),
        ("lightning.ckpt", "lightning.safetensors"), ("ema.pt", "ema.safetensors"),
        ("parameters.pth", "parameters.safetensors"), ("module_state.pt", "module_state.safetensors"),
    ])
    func matchesTwin(_ torchName: String, _ twinName: String) throws {
        let torch = try TorchCheckpointFile.open(Self.fixture(torchName))
        let twin = try SafetensorsFile.open(Self.fixture(twinName))
        #expect(Set(torch.tensors.map(\.name)) == Set(twin.tensors.map(\.name)))
        #expect(torch.tensors.count == twin.tensors.count)
        let torchData = try ReadOnlyFile(path: torch.path)
        let twinData = try ReadOnlyFile(path: twin.path)
        for tensor in torch.tensors {
            let expected = try #require(twin.tensor(named: tensor.name))
            #expect(tensor.dtype == expected.dtype, "\(tensor.name)")
            #expect(tensor.shape == expected.shape, "\(tensor.name)")
            #expect(tensor.byteCount == expected.byteCount, "\(tensor.name)")
            #expect(try torchData.readBytes(count: tensor.byteCount, at: tensor.fileOffset)
                    == twinData.readBytes(count: expected.byteCount, at: expected.fileOffset), "\(tensor.name)")
        }
    }

    @Test("the formats are told apart")
    func formats() throws {
        #expect(try TorchCheckpointFile.open(Self.fixture("dtypes.pt")).format == .zip)
        #expect(try TorchCheckpointFile.open(Self.fixture("legacy.pt")).format == .legacy)
    }

    @Test("views of one storage point into it at their storage offsets")
    func sharedStorage() throws {
        let file = try TorchCheckpointFile.open(Self.fixture("dtypes.pt"))
        let byName = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0) })
        let base = try #require(byName["shared.base"])
        // The script took base[10:16] and base[4:16].view(3, 4) of a 24-element F32 tensor.
        #expect(byName["shared.tail"]?.fileOffset == base.fileOffset + 10 * 4)
        #expect(byName["shared.grid"]?.fileOffset == base.fileOffset + 4 * 4)
        #expect(byName["shared.grid"]?.shape == [3, 4])
        #expect(base.byteCount == 24 * 4)
    }

    @Test("a Lightning .ckpt reads as its state_dict, with the top-level scalars as metadata")
    func lightning() throws {
        let file = try TorchCheckpointFile.open(Self.fixture("lightning.ckpt"))
        #expect(file.tensors.allSatisfy { $0.name.hasPrefix("model.diffusion_model.") })
        let metadata = Dictionary(file.metadata, uniquingKeysWith: { a, _ in a })
        #expect(metadata["global_step"] == "1234")
        #expect(metadata["epoch"] == "3")
        #expect(metadata["pytorch-lightning_version"] == "1.4.2")
    }

    @Test("OneTrainer's ema.pt: list items named by position, decay as metadata")
    func oneTrainerEMA() throws {
        let file = try TorchCheckpointFile.open(Self.fixture("ema.pt"))
        #expect(file.tensors.map(\.name).sorted() == (0..<6).map { "ema_parameters.\($0)" })
        #expect(file.metadata.first { $0.key == "decay" }?.value == "0.999")
    }

    @Test("hostile pickles are refused naming the global, before anything else happens", arguments: [
        ("evil_system.pt", "posix.system"), ("evil_eval.ckpt", "__builtin__.eval"),
        ("evil_getattr.pt", "builtins.getattr"), ("evil_class.pt", "__main__.Unknown"),
        ("evil_legacy.pt", "posix.system"),
    ])
    func hostile(_ name: String, _ global: String) throws {
        let error = #expect(throws: TorchPickleError.self) { try TorchCheckpointFile.open(Self.fixture(name)) }
        #expect(error?.kind == .forbiddenGlobal(global))
        let text = error?.description ?? ""
        #expect(text.hasPrefix(Self.fixture(name) + ": ") && text.contains("'\(global)'") && !text.contains("\n"))
    }

    @Test("compressed entries are refused, never inflated")
    func compressed() throws {
        let error = #expect(throws: TorchPickleError.self) { try TorchCheckpointFile.open(Self.fixture("compressed.pt")) }
        guard case .compressedEntry(_, let method) = error?.kind else { Issue.record("\(String(describing: error))"); return }
        #expect(method == 8)
    }

    @Test("a non-contiguous tensor is refused naming it")
    func nonContiguous() throws {
        let error = #expect(throws: TorchPickleError.self) { try TorchCheckpointFile.open(Self.fixture("noncontiguous.pt")) }
        #expect(error?.tensor == "transposed")
        #expect(error?.description.contains("not contiguous") == true)
    }

    @Test("every truncation of a real file is refused without a crash")
    func truncations() throws {
        for name in ["dtypes.pt", "legacy.pt"] {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.fixture(name))))
            for cut in stride(from: 0, to: bytes.count - 1, by: 7) {
                #expect(throws: TorchPickleError.self, "\(name) cut at \(cut)") {
                    try TorchCheckpointFile.read(from: MemoryBytes(Array(bytes[..<cut])), path: name)
                }
            }
        }
    }
}
