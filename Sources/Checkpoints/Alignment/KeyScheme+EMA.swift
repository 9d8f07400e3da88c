extension KeyScheme {
    /// The canonical folder of the live UNet.
    static let unetFolder = "unet/"
    /// The canonical folder of the UNet's EMA copy (`model_ema.*` and `unet_ema/` both resolve here).
    static let emaFolder = "unet_ema/"

    /// Whether the checkpoint holds EMA copies of its UNet that the scheme resolved.
    public var hasEMA: Bool {
        targets.contains { list in list.contains { $0.canonical.hasPrefix(KeyScheme.emaFolder) } }
    }

    /// Which denoiser weights a scheme aligns as the UNet.
    public enum Denoiser: Sendable {
        /// The live UNet as `unet/`; EMA copies stay `unet_ema/`.
        case live
        /// The live UNet, with the EMA copies set aside (the other side's EMA stands for its UNet).
        case liveOnly
        /// The EMA copy as `unet/`, with the live UNet set aside.
        case ema
    }

    /// The scheme with the chosen weights standing for the UNet, and the tensors set aside.
    ///
    /// With ``Denoiser/ema`` every `unet_ema/K` target becomes `unet/K` (component UNet) and the
    /// tensors that held `unet/K` lose their targets; with ``Denoiser/liveOnly`` the `unet_ema/`
    /// tensors lose theirs, and `model_ema.decay` and `model_ema.num_updates` of `checkpoint` are
    /// set aside with them. Tensors left without targets are returned so the aligner neither pairs
    /// them by name nor counts them as gaps.
    public func denoiser(_ choice: Denoiser, of checkpoint: Checkpoint) -> (scheme: KeyScheme, setAside: Set<Int>) {
        guard choice != .live else { return (self, []) }
        var setAside = Set<Int>()
        let rewritten = targets.enumerated().map { index, list -> [Target] in
            var kept: [Target] = []
            for var target in list {
                let isEMA = target.canonical.hasPrefix(KeyScheme.emaFolder)
                let isLive = target.canonical.hasPrefix(KeyScheme.unetFolder)
                switch choice {
                case .ema where isEMA:
                    target.canonical = KeyScheme.unetFolder + target.canonical.dropFirst(KeyScheme.emaFolder.count)
                    target.component = .unet
                    kept.append(target)
                case .ema where isLive, .liveOnly where isEMA:
                    continue
                default:
                    kept.append(target)
                }
            }
            if kept.isEmpty && !list.isEmpty { setAside.insert(index) }
            let key = checkpoint.tensors[index].key
            if choice == .liveOnly && checkpoint.tensors[index].folder == nil && (key == EMAKey.decay || key == EMAKey.numUpdates) {
                setAside.insert(index)
            }
            return kept
        }
        return (KeyScheme(targets: rewritten, encoders: encoders, looksLikeSDXL: looksLikeSDXL), setAside)
    }
}
