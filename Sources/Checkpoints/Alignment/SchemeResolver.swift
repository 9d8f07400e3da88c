/// Resolves every tensor of one checkpoint to canonical keys: the work behind ``KeyScheme``.
struct SchemeResolver {
    /// How the keys under a ``KeyNamespaces`` prefix or folder resolve.
    enum Namespace: Hashable {
        /// A UNet in LDM/SGM naming (or diffusers naming, for kohya's `unet.`).
        case unet
        /// EMA copies of the UNet: LitEma names (`model_ema.` + dot-stripped keys) or an EMA folder (`unet_ema/`).
        case ema
        /// A VAE in LDM naming (or diffusers naming, for `vae.`).
        case vae
        /// A CLIP text model in HF naming, in this folder (nil: decided by width).
        case clip(folder: String?)
        /// An OpenCLIP text tower in OpenCLIP naming, in this folder (nil: decided by width and UNet).
        case openCLIP(folder: String?)
    }

    /// How tensors are grouped before resolving.
    enum Group: Hashable {
        /// A diffusers component folder.
        case folder(String)
        /// Keys under a known single-file prefix.
        case prefixed(String, Namespace)
        /// Keys under no known prefix.
        case bare
    }

    let checkpoint: Checkpoint

    init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
    }

    /// One resolved canonical tensor before rows are worked out.
    struct Found {
        var folder: String
        var key: String
        var part: RowPart?
        var transform: PairTransform
        var component: Component
    }

    /// The canonical tensors of every tensor, by index.
    func resolve() -> [[KeyScheme.Target]] {
        let tensors = checkpoint.tensors
        var order: [Group] = []
        var members: [Group: [Int]] = [:]
        for (index, tensor) in tensors.enumerated() {
            let group = SchemeResolver.group(of: tensor)
            if members[group] == nil { order.append(group) }
            members[group, default: []].append(index)
        }

        var found = [[Found]](repeating: [], count: tensors.count)
        var unetMap: (map: BlockMap, keys: [String])?
        var sdxlUNet = false

        // UNets first: EMA names and the meaning of `conditioner.embedders.0.model.` depend on them.
        for group in order {
            guard case .prefixed(let prefix, .unet) = group, let indices = members[group] else { continue }
            let keys = indices.map { String(tensors[$0].key.dropFirst(prefix.count)) }
            let result = resolveUNet(indices: indices, keys: keys, folder: "unet", component: .unet, into: &found)
            if let map = result.map, unetMap == nil { unetMap = (map, keys) }
            sdxlUNet = sdxlUNet || result.hasLabelEmbedding
        }
        if checkpoint.componentFolderHint == "unet", let indices = members[.bare] {
            sdxlUNet = sdxlUNet || indices.contains { tensors[$0].key.hasPrefix("add_embedding.") }
        }

        for group in order {
            guard let indices = members[group] else { continue }
            switch group {
            case .prefixed(let prefix, let namespace):
                let keys = indices.map { String(tensors[$0].key.dropFirst(prefix.count)) }
                switch namespace {
                case .unet: break  // resolved above
                case .ema: resolveEMA(indices: indices, keys: keys, unet: unetMap, into: &found)
                case .vae: resolveVAE(indices: indices, keys: keys, into: &found)
                case .clip(let folder): resolveCLIP(indices: indices, keys: keys, folder: folder, into: &found)
                case .openCLIP(let folder):
                    resolveOpenCLIP(indices: indices, keys: keys, folder: folder, sdxlUNet: sdxlUNet, into: &found)
                }
            case .folder(let folder):
                resolveFolder(folder, indices: indices, into: &found)
            case .bare:
                resolveBare(indices: indices, sdxlUNet: sdxlUNet, into: &found)
            }
        }

        return found.enumerated().map { index, list in
            list.compactMap { item -> KeyScheme.Target? in
                var rows: Range<Int>?
                if let part = item.part {
                    guard let outer = tensors[index].info.shape.first, let range = part.rows(outer: outer) else { return nil }
                    rows = range
                }
                return KeyScheme.Target(canonical: item.folder + "/" + item.key, part: item.part, rows: rows,
                                        transform: item.transform, component: item.component)
            }
        }
    }

    /// The group a tensor belongs to: its folder, the ``KeyNamespaces`` prefix it sits under
    /// (with the entry's ``ComponentPrefix/under`` part), or bare when no mapped prefix holds it.
    static func group(of tensor: Checkpoint.Tensor) -> Group {
        if let folder = tensor.folder { return .folder(folder) }
        let key = tensor.key
        let index = NamespaceIndex.shared
        if let (entry, prefix) = index.entry(of: key), let namespace = namespace(of: entry) {
            let head = prefix + entry.under
            return key.hasPrefix(head) ? .prefixed(head, namespace) : .bare
        }
        if let ema = index.flatEMAPrefix(of: key) { return .prefixed(ema, .ema) }
        return .bare
    }

    /// How the keys under a table entry resolve, or nil for an entry that maps nothing.
    static func namespace(of entry: ComponentPrefix) -> Namespace? {
        switch entry.part {
        case .denoiser: return .unet
        case .vae: return .vae
        case .textEncoder:
            return entry.naming == .original && entry.component == .openCLIP ? .openCLIP(folder: entry.folder) : .clip(folder: entry.folder)
        case .other: return nil
        }
    }

    // MARK: - Components

    /// Resolves UNet keys in LDM/SGM naming (parameters detected from them) or diffusers naming.
    private func resolveUNet(indices: [Int], keys: [String], folder: String, component: Component,
                             into found: inout [[Found]]) -> (map: BlockMap?, hasLabelEmbedding: Bool) {
        let shapes = KeyShapes(zip(keys, indices).map { (key: $0.0, shape: checkpoint.tensors[$0.1].info.shape) })
        let config = UNetConfig.detect(ldm: shapes)
        let map = config?.blocks
        for (index, key) in zip(indices, keys) {
            if let map {
                let resolved = map.diffusers(forOriginal: key)
                if !resolved.isEmpty {
                    found[index] = resolved.map { Found(folder: folder, key: $0.key, part: $0.part, transform: $0.transform, component: component) }
                    continue
                }
            }
            if let key = DiffusersNaming.unet(key) {
                found[index] = [Found(folder: folder, key: key, part: nil, transform: .identity, component: component)]
            }
        }
        let label = config?.admInChannels != nil || keys.contains { $0.hasPrefix("add_embedding.") }
        return (map, label)
    }

    /// Resolves `model_ema.` keys by building every EMA name forward from the UNet's LDM keys.
    ///
    /// A file with an EMA copy but no live UNet (`model_ema.*` and a VAE) has no LDM keys to build
    /// from: the UNet's parameters are then read from the EMA names themselves (``FlatKeyShapes``),
    /// so the copy resolves to `unet_ema/` all the same and `--ema` can stand it for the UNet.
    private func resolveEMA(indices: [Int], keys: [String], unet: (map: BlockMap, keys: [String])?,
                            into found: inout [[Found]]) {
        var source = unet
        if source == nil {
            let shapes = FlatKeyShapes(zip(keys, indices).map { (key: $0.0, shape: checkpoint.tensors[$0.1].info.shape) },
                                       stripped: KeyNamespaces.litEMA.stripped)
            if let map = UNetConfig.detect(ldm: shapes)?.blocks { source = (map, []) }
        }
        guard let unet = source else { return }
        var flat: [String: BlockMap.Resolved] = [:]
        func add(_ original: String, _ resolved: BlockMap.Resolved) {
            let name = EMAKey.flat(original)
            if flat[name] == nil { flat[name] = resolved }
            let alias = EMAKey.flatAlias(original)
            if flat[alias] == nil { flat[alias] = resolved }
        }
        for key in unet.keys {
            if let resolved = unet.map.diffusers(forOriginal: key).first { add(key, resolved) }
        }
        for leaf in unet.map.enumerated() {
            add(leaf.original, BlockMap.Resolved(key: leaf.diffusers, transform: leaf.transform, part: leaf.part))
        }
        for (index, key) in zip(indices, keys) {
            guard let resolved = flat[EMAKey.prefix + key] else { continue }
            found[index] = [Found(folder: "unet_ema", key: resolved.key, part: resolved.part, transform: resolved.transform, component: .ema)]
        }
    }

    /// Resolves VAE keys in LDM naming (parameters detected from them) or diffusers naming.
    private func resolveVAE(indices: [Int], keys: [String], into found: inout [[Found]]) {
        let shapes = KeyShapes(zip(keys, indices).map { (key: $0.0, shape: checkpoint.tensors[$0.1].info.shape) })
        let map = VAEConfig.detect(ldm: shapes)?.blocks
        for (index, key) in zip(indices, keys) {
            if let map {
                let resolved = map.diffusers(forOriginal: key)
                if !resolved.isEmpty {
                    found[index] = resolved.map { Found(folder: "vae", key: $0.key, part: $0.part, transform: $0.transform, component: .vae) }
                    continue
                }
            }
            if let key = DiffusersNaming.vae(key) {
                found[index] = [Found(folder: "vae", key: key, part: nil, transform: .identity, component: .vae)]
            }
        }
    }

    /// The width of a text model: the token embedding's second dimension.
    private func clipWidth(indices: [Int], keys: [String]) -> Int? {
        for (index, key) in zip(indices, keys)
        where key == "text_model.embeddings.token_embedding.weight" || key == "embeddings.token_embedding.weight"
            || key == "token_embedding.weight" {
            let shape = checkpoint.tensors[index].info.shape
            if shape.count == 2 { return shape[1] }
        }
        return nil
    }

    /// Resolves CLIP keys in HF naming; a nil folder is decided by width (1280: `text_encoder_2`).
    private func resolveCLIP(indices: [Int], keys: [String], folder: String?, into found: inout [[Found]]) {
        let width = clipWidth(indices: indices, keys: keys)
        let folder = folder ?? (width == 1280 ? "text_encoder_2" : "text_encoder")
        let component: Component = folder == "text_encoder" && width != 1024 ? .clipL : .openCLIP
        for (index, key) in zip(indices, keys) {
            if let key = DiffusersNaming.clip(key) {
                found[index] = [Found(folder: folder, key: key, part: nil, transform: .identity, component: component)]
            }
        }
    }

    /// Resolves OpenCLIP keys; a nil folder (`conditioner.embedders.0.model.`) is `text_encoder_2`
    /// for bigG (width 1280, or next to an SDXL UNet: the refiner) and `text_encoder` otherwise (SD2).
    private func resolveOpenCLIP(indices: [Int], keys: [String], folder: String?, sdxlUNet: Bool,
                                 into found: inout [[Found]]) {
        let shapes = KeyShapes(zip(keys, indices).map { (key: $0.0, shape: checkpoint.tensors[$0.1].info.shape) })
        let width = clipWidth(indices: indices, keys: keys)
        let folder = folder ?? (width == 1280 || sdxlUNet ? "text_encoder_2" : "text_encoder")
        let config = TextEncoderConfig(kind: folder == "text_encoder_2" ? .openCLIPBigG : .openCLIPH, folder: folder,
                                       layers: shapes.count("transformer.resblocks."), hasProjection: shapes.has("text_projection"))
        let map = config.openCLIPBlocks
        for (index, key) in zip(indices, keys) {
            let resolved = map.diffusers(forOriginal: key)
            found[index] = resolved.map { Found(folder: folder, key: $0.key, part: $0.part, transform: $0.transform, component: .openCLIP) }
        }
    }

    /// How the keys of a diffusers folder resolve: the folder's ``KeyNamespaces`` entry, or
    /// ``Namespace/ema`` for the denoiser folder's EMA copy (`unet_ema`); nil for folders nothing maps.
    static func namespace(ofFolder folder: String) -> Namespace? {
        let index = NamespaceIndex.shared
        if let entry = index.folders[folder] { return namespace(of: entry) }
        for suffix in index.emaFolderSuffixes where folder.hasSuffix(suffix) {
            if index.folders[String(folder.dropLast(suffix.count))]?.part == .denoiser { return .ema }
        }
        return nil
    }

    /// Resolves a diffusers component folder's keys.
    private func resolveFolder(_ folder: String, indices: [Int], into found: inout [[Found]]) {
        let keys = indices.map { checkpoint.tensors[$0].key }
        switch SchemeResolver.namespace(ofFolder: folder) {
        case .unet, .ema:
            let component: Component = SchemeResolver.namespace(ofFolder: folder) == .ema ? .ema : .unet
            for (index, key) in zip(indices, keys) {
                if let key = DiffusersNaming.unet(key) {
                    found[index] = [Found(folder: folder, key: key, part: nil, transform: .identity, component: component)]
                }
            }
        case .vae:
            for (index, key) in zip(indices, keys) {
                if let key = DiffusersNaming.vae(key) {
                    found[index] = [Found(folder: folder, key: key, part: nil, transform: .identity, component: .vae)]
                }
            }
        case .clip, .openCLIP:
            resolveCLIP(indices: indices, keys: keys, folder: folder, into: &found)
        case nil:
            break
        }
    }

    /// Resolves keys under no known prefix: a lone component file (`diffusion_pytorch_model.safetensors`,
    /// a UNet-only or VAE-only file), by its folder hint or by what the keys look like.
    private func resolveBare(indices: [Int], sdxlUNet: Bool, into found: inout [[Found]]) {
        let keys = indices.map { checkpoint.tensors[$0].key }
        if let hint = checkpoint.componentFolderHint {
            switch SchemeResolver.namespace(ofFolder: hint) {
            case .unet, .ema:
                let component: Component = SchemeResolver.namespace(ofFolder: hint) == .ema ? .ema : .unet
                _ = resolveUNet(indices: indices, keys: keys, folder: hint, component: component, into: &found)
                return
            case .vae:
                resolveVAE(indices: indices, keys: keys, into: &found)
                return
            case .clip, .openCLIP:
                if keys.contains(where: { $0.hasPrefix("transformer.resblocks.") }) {
                    resolveOpenCLIP(indices: indices, keys: keys, folder: hint, sdxlUNet: sdxlUNet, into: &found)
                } else {
                    resolveCLIP(indices: indices, keys: keys, folder: hint, into: &found)
                }
                return
            case nil:
                break
            }
        }
        // No hint: each component resolves the keys it recognises; the first one wins.
        var partial = [[Found]](repeating: [], count: checkpoint.tensors.count)
        _ = resolveUNet(indices: indices, keys: keys, folder: "unet", component: .unet, into: &partial)
        var vae = [[Found]](repeating: [], count: checkpoint.tensors.count)
        resolveVAE(indices: indices, keys: keys, into: &vae)
        var clip = [[Found]](repeating: [], count: checkpoint.tensors.count)
        resolveCLIP(indices: indices, keys: keys, folder: nil, into: &clip)
        var openCLIP = [[Found]](repeating: [], count: checkpoint.tensors.count)
        if keys.contains(where: { $0.hasPrefix("transformer.resblocks.") }) {
            resolveOpenCLIP(indices: indices, keys: keys, folder: nil, sdxlUNet: sdxlUNet, into: &openCLIP)
        }
        for index in indices {
            for candidate in [partial[index], vae[index], clip[index], openCLIP[index]] where !candidate.isEmpty {
                found[index] = candidate
                break
            }
        }
    }
}
