/// Picks which weight files of one component folder to read.
///
/// The rule (documented for users on ``Checkpoint/open(_:variant:)``):
/// * A requested variant must exist in the component; otherwise the error lists
///   the variants that do (`default` for the weights without a variant).
/// * With no variant requested, the default weights are read if they exist;
///   otherwise the only variant there is; with several variants and no default,
///   the caller must choose.
///
/// Within the chosen variant the weights are either one file or shards with an
/// index; anything ambiguous (two weight names, two index spellings, a whole file
/// next to an index, shards without an index) is refused rather than guessed.
struct VariantResolver: Sendable {
    /// The files to read for the chosen variant.
    enum Selection: Equatable, Sendable {
        /// One safetensors file.
        case single(String)
        /// Sharded weights: the index and every file named like one of its shards.
        case sharded(index: String, shards: [String])
    }

    /// What was chosen for a component.
    struct Choice: Equatable, Sendable {
        /// The variant read, or nil for the default weights.
        var variant: String?
        var selection: Selection
    }

    /// The component's name in messages (`"unet"`).
    var component: String
    /// The component folder, which errors about its files name.
    var folderPath: String
    /// The path variant errors name (the checkpoint opened: the diffusers folder or the component folder).
    var errorPath: String
    /// The weight, index and pickle file names of the component folder.
    var names: [WeightFileName]

    /// The variants with safetensors weights or an index, default (nil) first, then sorted.
    var variants: [String?] {
        let keys = Set(names.filter { $0.role != .pickle }.map(\.variant))
        return keys.sorted { lhs, rhs in
            switch (lhs, rhs) {
            case (nil, _): return rhs != nil
            case (_, nil): return false
            case (let l?, let r?): return l.utf8.lexicographicallyPrecedes(r.utf8)
            }
        }
    }

    /// How variants are named in messages.
    static func display(_ variant: String?) -> String { variant ?? "default" }

    /// Chooses the variant and files, or returns nil if the folder holds no safetensors weights at all.
    func choose(requested: String?) throws(CheckpointError) -> Choice? {
        let present = variants
        guard !present.isEmpty else { return nil }
        let listing = present.map(VariantResolver.display).joined(separator: ", ")
        let chosen: String?
        if let requested {
            guard present.contains(requested) else {
                throw variantFailure("no '\(requested)' variant; present: \(listing)")
            }
            chosen = requested
        } else if present.contains(nil) {
            chosen = nil
        } else if present.count == 1 {
            chosen = present[0]
        } else {
            throw variantFailure("no default weights and several variants (\(listing)); choose one with --variant")
        }
        return Choice(variant: chosen, selection: try select(variant: chosen))
    }

    /// The files of one variant.
    private func select(variant: String?) throws(CheckpointError) -> Selection {
        let files = names.filter { $0.role != .pickle && $0.variant == variant }
        let what = variant.map { "'\($0)' variant" } ?? "default weights"
        let stems = Set(files.map(\.stem)).sorted()
        if stems.count > 1 {
            throw failure("\(what) are stored under two names (\(stems.map { "\($0).safetensors" }.joined(separator: ", "))); cannot tell which to read")
        }
        let indexes = files.filter { $0.role == .index }.map(\.name)
        let wholes = files.filter { $0.role == .weights && $0.shard == nil }.map(\.name)
        let shards = files.filter { $0.role == .weights && $0.shard != nil }.map(\.name)
        if indexes.count > 1 {
            throw failure("\(what) have two shard indexes, \(indexes.joined(separator: " and ")); cannot tell which to read")
        }
        if let index = indexes.first {
            if let whole = wholes.first {
                throw failure("\(what) are both in \(whole) and sharded with \(index); cannot tell which to read")
            }
            return .sharded(index: index, shards: shards)
        }
        if !shards.isEmpty {
            let stem = stems.first ?? "diffusion_pytorch_model"
            let expected = variant.map { "\(stem).safetensors.index.\($0).json" } ?? "\(stem).safetensors.index.json"
            throw failure("has shard files (\(shards.joined(separator: ", "))) but no shard index \(expected)")
        }
        guard let whole = wholes.first else {
            throw failure("\(what) have no weight file")
        }
        return .single(whole)
    }

    /// A variant-choice error, naming the checkpoint and (inside a diffusers folder) the component.
    private func variantFailure(_ text: String) -> CheckpointError {
        let prefix = errorPath == folderPath ? "" : "\(component): "
        return CheckpointError(path: errorPath, kind: .invalid(prefix + text))
    }

    /// An error about the component folder's files, naming the folder.
    private func failure(_ text: String) -> CheckpointError {
        CheckpointError(path: folderPath, kind: .invalid(text))
    }
}
