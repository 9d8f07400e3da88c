import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

@testable import Checkpoints

/// The error `body` throws, or nil.
private func openingError(_ body: () throws(CheckpointError) -> Checkpoint) -> CheckpointError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Whether an error is `.invalid` / `.unsupported` with text containing `fragment`, one line, naming `path`.
private func expectError(_ error: CheckpointError?, invalid: Bool = true, contains fragment: String, path: String? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error else {
        Issue.record("expected an error containing '\(fragment)', but opening succeeded", sourceLocation: sourceLocation)
        return
    }
    switch error.kind {
    case .invalid(let text) where invalid, .unsupported(let text) where !invalid:
        #expect(text.contains(fragment), "\(error.description)", sourceLocation: sourceLocation)
    default:
        Issue.record("unexpected error kind: \(error.description)", sourceLocation: sourceLocation)
    }
    #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    if let path {
        #expect(error.description.hasPrefix(path), "\(error.description)", sourceLocation: sourceLocation)
    }
}

/// Tensor counts by component folder.
private func countsByFolder(_ checkpoint: Checkpoint) -> [String: Int] {
    var counts: [String: Int] = [:]
    for tensor in checkpoint.tensors { counts[tensor.folder ?? "", default: 0] += 1 }
    return counts
}

/// Every tensor's name, dtype, shape and bytes, in checkpoint order.
private func contents(_ checkpoint: Checkpoint) throws -> [String: (DType, [Int], [UInt8])] {
    var files: [Int: ReadOnlyFile] = [:]
    var result: [String: (DType, [Int], [UInt8])] = [:]
    for tensor in checkpoint.tensors {
        let file = try files[tensor.fileIndex] ?? ReadOnlyFile(path: checkpoint.files[tensor.fileIndex].path)
        files[tensor.fileIndex] = file
        result[tensor.name] = (tensor.info.dtype, tensor.info.shape,
                               try file.readBytes(count: tensor.info.byteCount, at: tensor.info.fileOffset))
    }
    return result
}

@Suite("Opening the reference checkpoints")
struct OpeningReferenceTests {
    @Test func sd15DiffusersFolder() throws {
        let path = Fixtures.path("reference/sd15_tiny_diffusers")
        let checkpoint = try Checkpoint.open(path)
        #expect(checkpoint.storage == .diffusersFolder)
        #expect(countsByFolder(checkpoint) == ["unet": 686, "vae": 248, "text_encoder": 52])
        #expect(checkpoint.tensors.count == 986)
        #expect(checkpoint.pipelineClass == "StableDiffusionPipeline")
        #expect(checkpoint.componentClasses == [
            "unet": "UNet2DConditionModel", "vae": "AutoencoderKL", "text_encoder": "CLIPTextModel"])
        #expect(checkpoint.files.map(\.folder) == ["text_encoder", "unet", "vae"])
        #expect(checkpoint.variant == nil && checkpoint.componentVariants.isEmpty)
        #expect(checkpoint.tensors.allSatisfy { $0.name == "\($0.folder ?? "?")/\($0.key)" })
        #expect(checkpoint.tensors.contains { $0.name == "text_encoder/text_model.embeddings.token_embedding.weight" })
    }

    @Test func sdxlDiffusersFolder() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("reference/sdxl_tiny_diffusers"))
        #expect(checkpoint.storage == .diffusersFolder)
        #expect(countsByFolder(checkpoint) == ["unet": 720, "vae": 248, "text_encoder": 36, "text_encoder_2": 53])
        #expect(checkpoint.pipelineClass == "StableDiffusionXLPipeline")
        #expect(checkpoint.componentClasses["text_encoder_2"] == "CLIPTextModelWithProjection")
        #expect(checkpoint.files.map(\.folder) == ["text_encoder", "text_encoder_2", "unet", "vae"])
    }

    @Test(arguments: [
        ("sd15_tiny_ldm_fp32", 986), ("sd15_tiny_ldm_fp16", 986), ("sdxl_tiny_sgm_fp32", 1045), ("sdxl_tiny_sgm_fp16", 1045),
    ])
    func singleFiles(name: String, count: Int) throws {
        let path = Fixtures.path("reference/single_file/\(name).safetensors")
        let checkpoint = try Checkpoint.open(path)
        #expect(checkpoint.storage == .singleFile)
        #expect(checkpoint.tensors.count == count)
        #expect(checkpoint.componentFolderHint == nil && checkpoint.variant == nil)
        #expect(checkpoint.tensors.allSatisfy { $0.name == $0.key && $0.folder == nil })
    }

    @Test func loneComponentFile() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("reference/sd15_tiny_diffusers/unet/diffusion_pytorch_model.safetensors"))
        #expect(checkpoint.storage == .singleFile)
        #expect(checkpoint.tensors.count == 686)
        #expect(checkpoint.componentFolderHint == "unet")
        #expect(checkpoint.tensors.contains { $0.name == "conv_in.weight" })
    }

    @Test func loneComponentFolderMatchesTheDiffusersFolder() throws {
        let folder = try Checkpoint.open(Fixtures.path("reference/sdxl_tiny_diffusers"))
        for component in ["unet", "text_encoder_2"] {
            let lone = try Checkpoint.open(Fixtures.path("reference/sdxl_tiny_diffusers/\(component)/"))
            #expect(lone.storage == .componentFolder)
            #expect(lone.componentClasses == [component: folder.componentClasses[component] ?? "?"])
            let expected = folder.tensors.filter { $0.folder == component }.map(\.name)
            #expect(lone.tensors.map(\.name) == expected)
        }
    }
}

@Suite("Opening two checkpoints at once")
struct OpeningPairTests {
    @Test func eachSideIsWhatOpeningItAloneGives() throws {
        let pathA = Fixtures.path("reference/sdxl_tiny_diffusers"), pathB = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")
        let (a, b) = try OpenedCheckpoint.openPair((pathA, nil), (pathB, nil))
        for (opened, path) in [(a, pathA), (b, pathB)] {
            let alone = try Checkpoint.open(path)
            #expect(opened.checkpoint.path == path)
            #expect(opened.checkpoint.tensors.map(\.name) == alone.tensors.map(\.name))
            let identity = alone.identify()
            #expect(opened.identity.layout == identity.layout && opened.identity.architecture == identity.architecture)
            #expect(opened.identity.components == identity.components)
            #expect(opened.scheme.targets.map { $0.map(\.canonical) } == KeyScheme(alone).targets.map { $0.map(\.canonical) })
        }
        #expect(a.identity.layout == .diffusers && b.identity.layout != .diffusers)
    }

    @Test func bothFailingReportsAsFailure() throws {
        let missingA = "/nonexistent/ckdiff-a.safetensors", missingB = "/nonexistent/ckdiff-b.safetensors"
        for _ in 0..<20 {
            do {
                _ = try OpenedCheckpoint.openPair((missingA, nil), (missingB, nil))
                Issue.record("opening two missing files succeeded")
            } catch {
                #expect(error.description.hasPrefix(missingA), "\(error.description)")
            }
        }
        // B alone failing is reported as B's failure.
        let good = Fixtures.path("reference/single_file/sd15_tiny_ldm_fp16.safetensors")
        #expect(throws: CheckpointError.self) { try OpenedCheckpoint.openPair((good, nil), (missingB, nil)) }
        do {
            _ = try OpenedCheckpoint.openPair((good, nil), (missingB, nil))
        } catch {
            #expect(error.description.hasPrefix(missingB), "\(error.description)")
        }
    }
}

@Suite("Opening sharded components")
struct OpeningShardTests {
    @Test(arguments: [(nil, false), ("fp16", false), ("fp16", true)] as [(String?, Bool)])
    func shardedReadsTheSameTensors(variant: String?, legacy: Bool) throws {
        let reference = Fixtures.path("reference/sd15_tiny_diffusers")
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.copy(reference + "/model_index.json", to: "model_index.json")
        for component in ["vae", "text_encoder"] { try folder.copy(reference + "/" + component, to: component) }
        try folder.copy(reference + "/unet/config.json", to: "unet/config.json")
        let shards = try folder.shard(reference + "/unet/diffusion_pytorch_model.safetensors", count: 3, into: "unet",
                                      variant: variant, legacy: legacy)
        if let variant {
            // The other components get the variant too, as copies of their default weights.
            try folder.copy(reference + "/vae/diffusion_pytorch_model.safetensors", to: "vae/diffusion_pytorch_model.\(variant).safetensors")
            try folder.copy(reference + "/text_encoder/model.safetensors", to: "text_encoder/model.\(variant).safetensors")
        }

        let sharded = try Checkpoint.open(folder.root, variant: variant)
        let whole = try Checkpoint.open(reference)
        #expect(sharded.files.filter { $0.folder == "unet" }.map { FixturesName.last($0.path) } == shards)
        #expect(sharded.variant == variant)
        let a = try contents(whole), b = try contents(sharded)
        #expect(a.count == 986 && b.count == 986)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, value) in a {
            let other = try #require(b[name])
            #expect(value.0 == other.0 && value.1 == other.1 && value.2 == other.2, "\(name)")
        }
    }

    @Test func shardedLoneComponentFolder() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.shard(Fixtures.path("reference/sd15_tiny_diffusers/vae/diffusion_pytorch_model.safetensors"), count: 2, into: "vae")
        let checkpoint = try Checkpoint.open(folder.path("vae"))
        #expect(checkpoint.storage == .componentFolder)
        #expect(checkpoint.files.count == 2)
        #expect(checkpoint.tensors.count == 248)
        #expect(checkpoint.tensors.allSatisfy { $0.name.hasPrefix("vae/") })
    }

    @Test func fullSizeSparseSDXLWithShardedFP16UNet() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.writeModelIndex("StableDiffusionXLPipeline", [
            ("unet", "UNet2DConditionModel"), ("vae", "AutoencoderKL"), ("text_encoder", "CLIPTextModel"),
            ("text_encoder_2", "CLIPTextModelWithProjection")])
        var expected: [String: Int] = [:]
        for component in ["unet", "vae", "text_encoder", "text_encoder_2"] {
            let listing = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
                Fixtures.path("listings/diffusers/sdxl_\(component).json")))) as? [String: [String: Any]])
            let tensors = try listing.keys.sorted().map { name -> (name: String, dtype: DType, shape: [Int]) in
                let shape = try #require(listing[name]?["shape"] as? [Int])
                return (name, .f16, shape)
            }
            expected[component] = tensors.count
            let stem = component.hasPrefix("text_encoder") ? "model" : "diffusion_pytorch_model"
            if component == "unet" {
                let names = ["diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
                             "diffusion_pytorch_model.fp16-00002-of-00002.safetensors"]
                let half = tensors.count / 2
                try folder.makeFolder("unet")
                try SafetensorsWriter.writeSparse(Array(tensors[..<half]), to: folder.path("unet/" + names[0]))
                try SafetensorsWriter.writeSparse(Array(tensors[half...]), to: folder.path("unet/" + names[1]))
                try folder.writeIndex(tensors.enumerated().map { ($1.name, names[$0 < half ? 0 : 1]) },
                                      to: "unet/diffusion_pytorch_model.safetensors.index.fp16.json")
            } else {
                try folder.makeFolder(component)
                try SafetensorsWriter.writeSparse(tensors, to: folder.path("\(component)/\(stem).fp16.safetensors"))
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let checkpoint = try Checkpoint.open(folder.root, variant: "fp16")
        let elapsed = clock.now - start
        #expect(countsByFolder(checkpoint) == expected)
        #expect(expected["unet"] == 1680)
        #expect(checkpoint.files.count == 5)
        // Header-only opening of a 7 GB (sparse) pipeline should take well under a second even in debug builds.
        #expect(elapsed < .seconds(5), "opening took \(elapsed)")
    }

    /// A broken shard layout and what the error must say.
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var expected: String
        var build: @Sendable (OpeningTestFolder) throws -> Void
        var testDescription: String { label }
    }

    static let shard1 = "diffusion_pytorch_model-00001-of-00002.safetensors"
    static let shard2 = "diffusion_pytorch_model-00002-of-00002.safetensors"
    static let index = "unet/diffusion_pytorch_model.safetensors.index.json"

    /// Writes shards holding `a, b` and `c, d`.
    static func writeShards(_ folder: OpeningTestFolder, first: [String] = ["a", "b"], second: [String] = ["c", "d"]) throws {
        try folder.writeTensors(SmallTensors.f32(first), to: "unet/" + shard1)
        try folder.writeTensors(SmallTensors.f32(second, base: 10), to: "unet/" + shard2)
    }

    static let goodMap: [(tensor: String, file: String)] = [("a", shard1), ("b", shard1), ("c", shard2), ("d", shard2)]

    static let cases: [Case] = [
        Case(label: "missing shard", expected: "names shard '\(shard2)', which is missing") { folder in
            try folder.writeTensors(SmallTensors.f32(["a", "b"]), to: "unet/" + shard1)
            try folder.writeIndex(goodMap, to: index)
        },
        Case(label: "listed tensor absent from its shard", expected: "the index lists tensor 'e' in shard '\(shard2)', which does not hold it") { folder in
            try writeShards(folder)
            try folder.writeIndex(goodMap + [("e", shard2)], to: index)
        },
        Case(label: "shard tensor absent from the index", expected: "shard '\(shard2)' holds tensor 'd', which the index does not list") { folder in
            try writeShards(folder)
            try folder.writeIndex(Array(goodMap.prefix(3)), to: index)
        },
        Case(label: "tensor in two shards", expected: "tensor 'b' is in two shards, '\(shard1)' and '\(shard2)'") { folder in
            try writeShards(folder, second: ["b", "c", "d"])
            try folder.writeIndex(goodMap, to: index)
        },
        Case(label: "index points at the wrong shard", expected: "the index puts tensor 'c' in shard '\(shard1)', but it is in '\(shard2)'") { folder in
            try writeShards(folder)
            try folder.writeIndex([("a", shard1), ("b", shard1), ("c", shard1), ("d", shard2)], to: index)
        },
        Case(label: "unlisted shard file", expected: "shard file 'diffusion_pytorch_model-00003-of-00003.safetensors' is in the folder but the index does not list it") { folder in
            try writeShards(folder)
            try folder.writeTensors(SmallTensors.f32(["e"]), to: "unet/diffusion_pytorch_model-00003-of-00003.safetensors")
            try folder.writeIndex(goodMap, to: index)
        },
        Case(label: "duplicate weight_map key", expected: "'weight_map' lists tensor 'a' more than once") { folder in
            try writeShards(folder)
            try folder.writeIndex(goodMap + [("a", shard2)], to: index)
        },
        Case(label: "path traversal", expected: "maps tensor 'd' to '../\(shard2)', which is not a file name in the same folder") { folder in
            try writeShards(folder)
            try folder.writeTensors(SmallTensors.f32(["d"]), to: shard2)
            try folder.writeIndex(Array(goodMap.prefix(3)) + [("d", "../" + shard2)], to: index)
        },
        Case(label: "subfolder path", expected: "maps tensor 'd' to 'sub/\(shard2)', which is not a file name") { folder in
            try writeShards(folder)
            try folder.writeIndex(Array(goodMap.prefix(3)) + [("d", "sub/" + shard2)], to: index)
        },
        Case(label: "dot-dot name", expected: "maps tensor 'd' to '..'") { folder in
            try writeShards(folder)
            try folder.writeIndex(Array(goodMap.prefix(3)) + [("d", "..")], to: index)
        },
        Case(label: "shards without an index", expected: "but no shard index diffusion_pytorch_model.safetensors.index.json") { folder in
            try writeShards(folder)
        },
        Case(label: "whole file and index", expected: "are both in diffusion_pytorch_model.safetensors and sharded with") { folder in
            try writeShards(folder)
            try folder.writeIndex(goodMap, to: index)
            try folder.writeTensors(SmallTensors.f32(), to: "unet/diffusion_pytorch_model.safetensors")
        },
        Case(label: "index is not JSON", expected: "is not valid JSON") { folder in
            try writeShards(folder)
            try folder.writeText("{\"weight_map\": {\"a\": \"x\",}}", to: index)
        },
    ]

    @Test(arguments: cases)
    func indexErrors(_ testCase: Case) throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try testCase.build(folder)
        // The same layout opened as a component folder and inside a diffusers folder.
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("unet")) },
                    contains: testCase.expected, path: folder.path("unet"))
        try folder.writeModelIndex("StableDiffusionPipeline", [("unet", "UNet2DConditionModel")])
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.root) },
                    contains: testCase.expected, path: folder.path("unet"))
    }
}

@Suite("Opening weight variants")
struct OpeningVariantTests {
    /// A pipeline whose components hold the given variants (`nil` = default weights), F32 default, F16 fp16, BF16 bf16.
    static func pipeline(_ components: [String: [String?]]) throws -> OpeningTestFolder {
        let folder = try OpeningTestFolder()
        try folder.writeModelIndex("StableDiffusionPipeline", components.keys.sorted().map { ($0, "Model") })
        for (component, variants) in components {
            let stem = component.hasPrefix("text_encoder") ? "model" : "diffusion_pytorch_model"
            for variant in variants {
                let entries: [SafetensorsWriter.Entry]
                switch variant {
                case nil: entries = SmallTensors.f32()
                case "bf16": entries = SmallTensors.bf16()
                default: entries = SmallTensors.f16()
                }
                let name = variant.map { "\(stem).\($0).safetensors" } ?? "\(stem).safetensors"
                try folder.writeTensors(entries, to: "\(component)/\(name)")
            }
        }
        return folder
    }

    @Test func requestedVariantIsReadEverywhere() throws {
        let folder = try Self.pipeline(["unet": [nil, "fp16"], "vae": [nil, "fp16"], "text_encoder": [nil, "fp16", "bf16"]])
        defer { folder.remove() }
        let fp16 = try Checkpoint.open(folder.root, variant: "fp16")
        #expect(fp16.variant == "fp16")
        #expect(fp16.componentVariants == ["unet": "fp16", "vae": "fp16", "text_encoder": "fp16"])
        #expect(fp16.tensors.count == 12 && fp16.tensors.allSatisfy { $0.info.dtype == .f16 })
        #expect(fp16.files.map { FixturesName.last($0.path) }
            == ["model.fp16.safetensors", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.fp16.safetensors"])

        let plain = try Checkpoint.open(folder.root)
        #expect(plain.variant == nil && plain.componentVariants.isEmpty)
        #expect(plain.tensors.allSatisfy { $0.info.dtype == .f32 })
    }

    @Test func missingVariantListsThosePresent() throws {
        let folder = try Self.pipeline(["unet": [nil, "bf16"], "vae": [nil, "fp16"]])
        defer { folder.remove() }
        let error = openingError { () throws(CheckpointError) in try Checkpoint.open(folder.root, variant: "fp16") }
        expectError(error, contains: "unet: no 'fp16' variant; present: default, bf16", path: folder.root)
        // A lone component folder names itself in the path, not again in the text.
        let lone = openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("unet"), variant: "fp16") }
        #expect(lone?.description == "\(folder.path("unet")): no 'fp16' variant; present: default, bf16")
        // A single variant file says what it is.
        let file = try Checkpoint.open(folder.path("unet/diffusion_pytorch_model.bf16.safetensors"))
        #expect(file.storage == .singleFile && file.variant == "bf16" && file.componentFolderHint == "unet")
    }

    @Test func onlyVariantIsReadWithoutAsking() throws {
        let mixed = try Self.pipeline(["unet": ["fp16"], "vae": [nil]])
        defer { mixed.remove() }
        let checkpoint = try Checkpoint.open(mixed.root)
        #expect(checkpoint.componentVariants == ["unet": "fp16"])
        #expect(checkpoint.variant == nil)
        #expect(checkpoint.tensors.filter { $0.folder == "unet" }.allSatisfy { $0.info.dtype == .f16 })
        #expect(checkpoint.tensors.filter { $0.folder == "vae" }.allSatisfy { $0.info.dtype == .f32 })

        let uniform = try Self.pipeline(["unet": ["fp16"], "vae": ["fp16"]])
        defer { uniform.remove() }
        #expect(try Checkpoint.open(uniform.root).variant == "fp16")
        // Asking for the default when only a variant exists is not possible; asking for another variant fails.
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(uniform.root, variant: "bf16") },
                    contains: "no 'bf16' variant; present: fp16")
    }

    @Test func severalVariantsWithoutDefaultAskForOne() throws {
        let folder = try Self.pipeline(["unet": ["fp16", "bf16"], "vae": [nil]])
        defer { folder.remove() }
        let error = openingError { () throws(CheckpointError) in try Checkpoint.open(folder.root) }
        expectError(error, contains: "unet: no default weights and several variants (bf16, fp16); choose one with --variant")
        #expect(try Checkpoint.open(folder.path("unet"), variant: "bf16").tensors.allSatisfy { $0.info.dtype == .bf16 })
    }

    @Test func invalidVariantName() {
        let error = openingError { () throws(CheckpointError) in
            try Checkpoint.open(Fixtures.path("reference/sd15_tiny_diffusers"), variant: "../fp16")
        }
        expectError(error, invalid: false, contains: "is not a variant name")
    }
}

@Suite("Opening: folders, links and refusals")
struct OpeningFolderTests {
    @Test func componentSelection() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.writeModelIndex("StableDiffusionPipeline", [
            ("unet", "UNet2DConditionModel"), ("safety_checker", nil), ("scheduler", "PNDMScheduler")])
        try folder.writeTensors(SmallTensors.f32(), to: "unet/diffusion_pytorch_model.safetensors")
        try folder.writeText("{\"_class_name\": \"UNet2DConditionModel\"}", to: "unet/config.json")
        // Disabled in model_index.json: skipped even though it holds weights.
        try folder.writeTensors(SmallTensors.f32(), to: "safety_checker/model.safetensors")
        // Named, but without weights.
        try folder.writeText("{}", to: "scheduler/scheduler_config.json")
        // Not named, but a component folder with a config: an EMA copy.
        try folder.writeTensors(SmallTensors.f32(["a", "b"]), to: "unet_ema/diffusion_pytorch_model.safetensors")
        try folder.writeText("{\"_class_name\": \"UNet2DConditionModel\", \"decay\": 0.9999}", to: "unet_ema/config.json")
        // Not named, no config: not a component.
        try folder.writeTensors(SmallTensors.f32(), to: "samples/model.safetensors")

        let checkpoint = try Checkpoint.open(folder.root)
        #expect(checkpoint.files.map(\.folder) == ["unet", "unet_ema"])
        #expect(countsByFolder(checkpoint) == ["unet": 4, "unet_ema": 2])
        #expect(checkpoint.componentClasses == ["unet": "UNet2DConditionModel", "unet_ema": "UNet2DConditionModel"])
    }

    @Test func symlinkInsideTheFolderIsRead() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.writeTensors(SmallTensors.f32(), to: "store/weights.safetensors")
        try folder.link("unet/diffusion_pytorch_model.safetensors", to: "../store/weights.safetensors")
        try folder.writeModelIndex("StableDiffusionPipeline", [("unet", "UNet2DConditionModel")])
        #expect(try Checkpoint.open(folder.root).tensors.count == 4)
    }

    @Test func symlinkLeavingTheFolderIsRefused() throws {
        let outside = try OpeningTestFolder("ckdiff-outside")
        defer { outside.remove() }
        try outside.writeTensors(SmallTensors.f32(), to: "unet/diffusion_pytorch_model.safetensors")

        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        try folder.writeModelIndex("StableDiffusionPipeline", [("unet", "UNet2DConditionModel"), ("vae", "AutoencoderKL")])
        try folder.link("unet/diffusion_pytorch_model.safetensors", to: outside.path("unet/diffusion_pytorch_model.safetensors"))
        try folder.writeTensors(SmallTensors.f32(), to: "vae/diffusion_pytorch_model.safetensors")
        let error = openingError { () throws(CheckpointError) in try Checkpoint.open(folder.root) }
        expectError(error, contains: "outside the folder", path: folder.path("unet/diffusion_pytorch_model.safetensors"))

        // A linked component folder is refused the same way, and so is a lone component folder with a link out.
        let linkedFolder = try OpeningTestFolder()
        defer { linkedFolder.remove() }
        try linkedFolder.writeModelIndex("StableDiffusionPipeline", [("unet", "UNet2DConditionModel")])
        try linkedFolder.link("unet", to: outside.path("unet"))
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(linkedFolder.root) },
                    contains: "outside the folder", path: linkedFolder.path("unet"))
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("unet")) },
                    contains: "outside the folder")
    }

    @Test func huggingFaceCacheSnapshotIsRead() throws {
        let cache = try OpeningTestFolder("ckdiff-hub")
        defer { cache.remove() }
        let repo = "models--org--tiny"
        try cache.writeTensors(SmallTensors.f32(), to: "\(repo)/blobs/0123abcd")
        try cache.writeText("{\"_class_name\": \"StableDiffusionPipeline\", \"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}",
                            to: "\(repo)/blobs/4567ef")
        try cache.link("\(repo)/snapshots/rev1/unet/diffusion_pytorch_model.safetensors", to: "../../../blobs/0123abcd")
        try cache.link("\(repo)/snapshots/rev1/model_index.json", to: "../../blobs/4567ef")
        let checkpoint = try Checkpoint.open(cache.path("\(repo)/snapshots/rev1"))
        #expect(checkpoint.tensors.map(\.name) == ["unet/a", "unet/b", "unet/c", "unet/d"])
        #expect(checkpoint.pipelineClass == "StableDiffusionPipeline")
        #expect(try Checkpoint.open(cache.path("\(repo)/snapshots/rev1/unet")).tensors.count == 4)
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(cache.path(repo)) },
                    invalid: false, contains: "Hugging Face cache")
    }

    @Test("a component folder whose weights are one torch.save .bin file reads the tensors of its safetensors twin")
    func binComponent() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        let source = Fixtures.root.appendingPathComponent("ckpt/module_state.pt")
        let twin = try Checkpoint.open(Fixtures.root.appendingPathComponent("ckpt/module_state.safetensors").path)
        try folder.writeText("{\"_class_name\": \"UNet2DConditionModel\"}", to: "unet/config.json")
        try FileManager.default.copyItem(atPath: source.path, toPath: folder.path("unet/diffusion_pytorch_model.bin"))
        let checkpoint = try Checkpoint.open(folder.path("unet"))
        #expect(checkpoint.files.first?.format == .pytorchZip)
        let read = checkpoint.tensors.map { ($0.key, $0.info.dtype, $0.info.shape) }
        let expected = twin.tensors.map { ($0.key, $0.info.dtype, $0.info.shape) }
        #expect(read.map(\.0).sorted() == expected.map(\.0).sorted())
        for (key, dtype, shape) in expected {
            let match = read.first { $0.0 == key }
            #expect(match?.1 == dtype && match?.2 == shape, "\(key)")
        }
    }

    @Test func refusals() throws {
        let folder = try OpeningTestFolder()
        defer { folder.remove() }
        let missing = folder.path("nothing.safetensors")
        let notFound = openingError { () throws(CheckpointError) in try Checkpoint.open(missing) }
        #expect(notFound?.kind == .notFound)
        #expect(notFound?.description == "\(missing): no such file or directory")

        for name in ["model.ckpt", "model.pt", "pytorch_model.bin"] {
            try folder.writeText("not really a pickle", to: name)
            // A PyTorch name opens through the restricted pickle reader, which names what it found instead.
            let error = openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path(name)) }
            let text = try #require(error?.description)
            #expect(text == "\(folder.path(name)): is neither a PyTorch zip checkpoint nor a legacy PyTorch pickle (it starts with neither 'PK' nor a pickle protocol byte)")
        }

        try folder.writeText("{}", to: "empty/readme.json")
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("empty")) },
                    invalid: false, contains: "neither a diffusers folder", path: folder.path("empty"))

        try folder.writeTensors(SmallTensors.f32(), to: "loose/my_merge.safetensors")
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("loose")) },
                    invalid: false, contains: "open one of its .safetensors files (my_merge.safetensors)")

        // An older folder whose only weights are a .bin file: read by the pickle reader, which refuses non-pickles.
        try folder.writeText("pickle", to: "old/unet/diffusion_pytorch_model.bin")
        try folder.writeText("{\"_class_name\": \"P\", \"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}", to: "old/model_index.json")
        let notPickle = try #require(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("old")) })
        #expect(notPickle.description.hasPrefix(folder.path("old/unet/diffusion_pytorch_model.bin") + ": is neither a PyTorch zip checkpoint"))

        // Sharded .bin weights are not read.
        try folder.writeText("pickle", to: "sharded/unet/diffusion_pytorch_model-00001-of-00002.bin")
        try folder.writeText("pickle", to: "sharded/unet/diffusion_pytorch_model-00002-of-00002.bin")
        try folder.writeText("{\"_class_name\": \"P\", \"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}", to: "sharded/model_index.json")
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("sharded")) },
                    invalid: false, contains: "ckdiff reads one unsharded .bin weight file per component",
                    path: folder.path("sharded/unet"))

        try folder.writeText("{\"_class_name\": \"P\", \"unet\": [\"diffusers\", \"U\"], \"unet\": [null, null]}", to: "dup/model_index.json")
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.path("dup")) },
                    contains: "lists 'unet' more than once", path: folder.path("dup/model_index.json"))

        try folder.writeModelIndex("P", [("unet", "U")])
        expectError(openingError { () throws(CheckpointError) in try Checkpoint.open(folder.root) },
                    contains: "no component folder with safetensors weights")
    }

    @Test(arguments: [
        ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model", nil, WeightFileName.Role.weights, nil),
        ("model.fp16.safetensors", "model", "fp16", .weights, nil),
        ("diffusion_pytorch_model-00002-of-00003.safetensors", "diffusion_pytorch_model", nil, .weights, 2),
        ("diffusion_pytorch_model.bf16-00001-of-00002.safetensors", "diffusion_pytorch_model", "bf16", .weights, 1),
        ("model-00001-of-00002.fp16.safetensors", "model", "fp16", .weights, 1),
        ("diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model", nil, .index, nil),
        ("model.safetensors.index.fp16.json", "model", "fp16", .index, nil),
        ("diffusion_pytorch_model.safetensors.fp16.index.json", "diffusion_pytorch_model", "fp16", .index, nil),
        ("pytorch_model.bin", "pytorch_model", nil, .pickle, nil),
        ("diffusion_pytorch_model.non_ema.bin", "diffusion_pytorch_model", "non_ema", .pickle, nil),
    ] as [(String, String, String?, WeightFileName.Role, Int?)])
    func weightFileNames(name: String, stem: String, variant: String?, role: WeightFileName.Role, shard: Int?) throws {
        let parsed = try #require(WeightFileName(name))
        #expect(parsed.stem == stem && parsed.variant == variant && parsed.role == role && parsed.shard?.number == shard)
    }

    @Test(arguments: [
        "config.json", "model_index.json", "my_model.safetensors", "model.safetensors.index.json.bak",
        "diffusion_pytorch_model-1-of-2.safetensors", "diffusion_pytorch_model-00003-of-00002.safetensors",
        "diffusion_pytorch_model.fp.16.safetensors", "model..safetensors", "modelx.safetensors",
    ])
    func notWeightFileNames(name: String) {
        #expect(WeightFileName(name) == nil)
    }
}

/// File-name helpers for expectations.
enum FixturesName {
    /// The last path component.
    static func last(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "")
    }
}
