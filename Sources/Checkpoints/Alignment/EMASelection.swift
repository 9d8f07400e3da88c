/// Which weights stand for each side's denoiser: the live UNet or its EMA copy (`ckdiff --ema`).
///
/// Without a selection (``live``) each side's live UNet is compared with the other's, and EMA
/// copies with EMA copies. With one, the chosen side's EMA copy (`model_ema.*` or `unet_ema/`) is
/// aligned where its live UNet would be, and every denoiser tensor that then stands for nothing
/// (the replaced live UNet, an EMA copy the other side's live UNet is compared against instead,
/// the `model_ema.decay` and `num_updates` scalars) is a leftover of class ``LeftoverClass/setAside``.
public enum EMASelection: String, Sendable, Hashable, CaseIterable, Codable {
    /// Live UNet against live UNet, EMA against EMA (the default).
    case live = "none"
    /// A's EMA copy stands for A's UNet.
    case a
    /// B's EMA copy stands for B's UNet.
    case b
    /// Both sides' EMA copies stand for their UNets.
    case both

    /// Whether A's EMA copy stands for A's UNet.
    public var usesEMAForA: Bool { self == .a || self == .both }
    /// Whether B's EMA copy stands for B's UNet.
    public var usesEMAForB: Bool { self == .b || self == .both }
}
