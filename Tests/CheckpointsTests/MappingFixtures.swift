import CKDiffTestSupport
import Foundation
import Safetensors
@testable import Checkpoints

/// A key listing: names, dtypes and shapes, with sd-mecha's component and `optional` flag when it has them.
struct Listing {
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var component: String?
        var optional: Bool
        var aliases: [String]
    }

    var entries: [Entry]

    /// Reads `Tests/Fixtures/listings/<relative>`.
    init(_ relative: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("listings/" + relative)))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else {
            throw ListingError("\(relative) is not an object of objects")
        }
        entries = try object.keys.sorted().map { name in
            let value = object[name] ?? [:]
            guard let dtypeName = value["dtype"] as? String, let dtype = Listing.dtype(dtypeName),
                  let shape = value["shape"] as? [Int] else {
                throw ListingError("\(relative): entry '\(name)' has no dtype or shape")
            }
            return Entry(name: name, dtype: dtype, shape: shape, component: value["component"] as? String,
                         optional: value["optional"] as? Bool ?? false, aliases: value["aliases"] as? [String] ?? [])
        }
    }

    init(entries: [Entry]) {
        self.entries = entries
    }

    /// sd-mecha spells dtypes the torch way, the diffusers listings the safetensors way.
    static func dtype(_ name: String) -> DType? {
        switch name {
        case "float32": return .f32
        case "float16": return .f16
        case "bfloat16": return .bf16
        case "int64": return .i64
        case "int32": return .i32
        default: return DType(rawValue: name)
        }
    }

    /// The entry named `name`.
    subscript(name: String) -> Entry? { entries.first { $0.name == name } }

    /// The entries as the sparse writer takes them.
    var tensors: [(name: String, dtype: DType, shape: [Int])] { entries.map { ($0.name, $0.dtype, $0.shape) } }

    /// The entries whose names pass `include`.
    func filter(_ include: (Entry) -> Bool) -> Listing { Listing(entries: entries.filter(include)) }

    /// The entries with a prefix added.
    func prefixed(_ prefix: String) -> Listing {
        Listing(entries: entries.map { var e = $0; e.name = prefix + e.name; return e })
    }
}

struct ListingError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Header-only checkpoints in a temporary folder.
struct SparseCheckpoints {
    let root: URL

    init(_ label: String = "ckdiff-mapping") throws {
        root = try Fixtures.temporaryDirectory(label)
    }

    /// A single `.safetensors` file holding a listing.
    func file(_ name: String, _ listing: Listing) throws -> Checkpoint {
        let path = root.appendingPathComponent(name + ".safetensors").path
        try SafetensorsWriter.writeSparse(listing.tensors, to: path)
        return try Checkpoint.open(path)
    }

    /// A diffusers folder with these components (folder name → listing).
    func folder(_ name: String, pipeline: String = "StableDiffusionPipeline", _ components: [(String, Listing)]) throws -> Checkpoint {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var index = ["  \"_class_name\": \"\(pipeline)\""]
        for (component, listing) in components {
            let directory = folder.appendingPathComponent(component)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let isTransformers = component.hasPrefix("text_encoder")
            let className = isTransformers ? "CLIPTextModel" : (component.hasPrefix("unet") ? "UNet2DConditionModel" : "AutoencoderKL")
            let config = isTransformers ? "{\"architectures\": [\"\(className)\"]}" : "{\"_class_name\": \"\(className)\"}"
            try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))
            let weights = isTransformers ? "model.safetensors" : "diffusion_pytorch_model.safetensors"
            try SafetensorsWriter.writeSparse(listing.tensors, to: directory.appendingPathComponent(weights).path)
            if !component.hasSuffix("_ema") {
                index.append("  \"\(component)\": [\"\(isTransformers ? "transformers" : "diffusers")\", \"\(className)\"]")
            }
        }
        try Data(("{\n" + index.joined(separator: ",\n") + "\n}\n").utf8).write(to: folder.appendingPathComponent("model_index.json"))
        return try Checkpoint.open(folder.path)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// Facts about an alignment that tests check.
extension Alignment {
    /// The shape of a view: the tensor's, cut to its rows.
    static func shape<Side>(of view: TensorRef<Side>, in checkpoint: Checkpoint) -> [Int] {
        var shape = checkpoint.tensors[view.tensor].info.shape
        if let rows = view.rows, !shape.isEmpty { shape[0] = rows.count }
        return shape
    }

    /// The pairs whose shapes do not line up through their transform.
    func misalignedPairs(_ a: Checkpoint, _ b: Checkpoint) -> [String] {
        pairs.compactMap { pair in
            let sa = Alignment.shape(of: pair.a, in: a)
            let sb = Alignment.shape(of: pair.b, in: b)
            let ok: Bool
            switch pair.transform {
            case .identity: ok = sa == sb
            case .reshape: ok = sa != sb && sa.filter { $0 != 1 } == sb.filter { $0 != 1 }
            case .transpose: ok = sa.count == 2 && sb == [sa[1], sa[0]]
            }
            return ok ? nil : "\(pair.name): \(sa) vs \(sb) (\(pair.transform))"
        }
    }

    /// Leftover counts by class.
    static func classes<Side>(_ leftovers: [Leftover<Side>]) -> [LeftoverClass: Int] {
        leftovers.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    /// Tensor indices of a side that appear in no pair and no leftover, or in several pairs without row slices.
    func unaccounted<Side>(_ checkpoint: Checkpoint, side: KeyPath<AlignedPair, TensorRef<Side>>, leftovers: [Leftover<Side>]) -> [String] {
        var seen = Set(leftovers.map(\.tensor))
        for pair in pairs { seen.insert(pair[keyPath: side].tensor) }
        return checkpoint.tensors.indices.filter { !seen.contains($0) }.map { checkpoint.tensors[$0].name }
    }
}
