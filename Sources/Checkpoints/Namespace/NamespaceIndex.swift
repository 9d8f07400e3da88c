/// The namespaces of ``KeyNamespaces`` merged into the lookups detection and alignment use:
/// which component a key prefix or folder names, the EMA names, and the layout-only keys.
///
/// Entries that several families write alike merge into one; where the families disagree
/// the keys decide: a folder differs (`conditioner.embedders.0.model.` is SD2's
/// `text_encoder` but the refiner's `text_encoder_2`) → nil, decided by width; a text encoder's
/// component differs (kohya `te.` is SD1's CLIP-L but SD2's OpenCLIP) → CLIP-L, which a text model
/// 1024 or 1280 wide turns into OpenCLIP.
struct NamespaceIndex: Sendable {
    /// Single-file prefixes, most specific first.
    let prefixes: [ComponentPrefix]
    /// Diffusers folders by name.
    let folders: [String: ComponentPrefix]
    /// Flattened EMA namings (LitEma).
    let flatEMA: [FlatEMANaming]
    /// Suffixes of diffusers EMA folders.
    let emaFolderSuffixes: [String]
    /// Layout-only keys of every layout.
    let layoutOnly: [LayoutOnlyKey]

    /// The index of every registered namespace.
    static let shared = NamespaceIndex(KeyNamespaces.all.flatMap(\.namespaces), unmapped: KeyNamespaces.unmapped)

    init(_ namespaces: [KeyNamespace], unmapped: [ComponentPrefix]) {
        var merged: [ComponentPrefix] = []
        for entry in namespaces.flatMap(\.components) {
            guard let at = merged.firstIndex(where: { $0.prefix == entry.prefix && $0.slot == entry.slot }) else {
                merged.append(entry)
                continue
            }
            var known = merged[at]
            if known.folder != entry.folder { known.folder = nil }
            if known.component != entry.component && known.part == .textEncoder { known.component = .clipL }
            merged[at] = known
        }
        // Families' own entries before the unmapped ones, so that an equally specific match prefers them.
        for entry in unmapped where !merged.contains(where: { $0.prefix == entry.prefix && $0.slot == entry.slot }) {
            merged.append(entry)
        }
        let singleFile = merged.filter { !$0.isFolder }
        prefixes = singleFile.enumerated().sorted { lhs, rhs in
            let (l, r) = (lhs.element, rhs.element)
            if l.prefix.count != r.prefix.count { return l.prefix.count > r.prefix.count }
            if (l.slot != nil) != (r.slot != nil) { return l.slot != nil }
            return lhs.offset < rhs.offset
        }.map(\.element)
        folders = Dictionary(merged.compactMap { entry in entry.folderName.map { ($0, entry) } }, uniquingKeysWith: { first, _ in first })
        var flat: [FlatEMANaming] = []
        var suffixes: [String] = []
        for namespace in namespaces {
            switch namespace.ema {
            case .none: break
            case .flattened(let naming):
                if !flat.contains(naming) { flat.append(naming) }
            case .folder(let suffix):
                if !suffixes.contains(suffix) { suffixes.append(suffix) }
            }
        }
        flatEMA = flat
        emaFolderSuffixes = suffixes
        var layoutOnly: [LayoutOnlyKey] = []
        for key in namespaces.flatMap(\.layoutOnly) where !layoutOnly.contains(key) { layoutOnly.append(key) }
        self.layoutOnly = layoutOnly
    }

    /// The entry a single-file key sits under and the prefix as spelled in the key, or nil.
    ///
    /// The longest matching prefix wins (`text_encoders.clip_l.` before `text_encoders.`); at equal
    /// length a slot-bound entry wins over one for any slot.
    func entry(of key: String) -> (entry: ComponentPrefix, prefix: String)? {
        for entry in prefixes {
            if let matched = entry.match(key) { return (entry, matched) }
        }
        return nil
    }

    /// The flattened EMA naming whose prefix `key` starts with, or nil.
    func flatEMAPrefix(of key: String) -> String? {
        flatEMA.first { key.hasPrefix($0.prefix) }?.prefix
    }

    /// Whether a top-level key is one of the flattened EMA scalars (`model_ema.decay`).
    func isEMAScalar(_ key: String) -> Bool {
        flatEMA.contains { key == $0.decay || key == $0.numUpdates }
    }

    /// Whether a diffusers folder holds an EMA copy (`unet_ema`).
    func isEMAFolder(_ folder: String) -> Bool {
        emaFolderSuffixes.contains { folder.hasSuffix($0) }
    }

    /// The exact top-level keys of one layout-only class.
    func exactKeys(_ kind: LeftoverClass) -> Set<String> {
        Set(layoutOnly.compactMap { item in
            guard item.kind == kind, case .exact(let key) = item.pattern else { return nil }
            return key
        })
    }

    /// The last key components of one layout-only class.
    func leaves(_ kind: LeftoverClass) -> Set<Substring> {
        Set(layoutOnly.compactMap { item in
            guard item.kind == kind, case .leaf(let leaf) = item.pattern else { return nil }
            return Substring(leaf)
        })
    }
}
