/// What to compare with what: the contract between knowing layouts and comparing numbers.
///
/// An aligner (same-layout by name, or cross-layout through mapping tables) builds
/// the plan from two checkpoints' headers; the comparison engine streams it and
/// knows nothing of layouts. Adding a layout means producing plans, never
/// touching the engine.
public struct AlignmentPlan: Sendable {
    /// Pairs to compare, in report order.
    public var pairs: [AlignedPair]
    /// Tensors of A that nothing in B corresponds to.
    public var onlyInA: [Leftover]
    /// Tensors of B that nothing in A corresponds to.
    public var onlyInB: [Leftover]

    public init(pairs: [AlignedPair], onlyInA: [Leftover], onlyInB: [Leftover]) {
        self.pairs = pairs
        self.onlyInA = onlyInA
        self.onlyInB = onlyInB
    }
}

/// A tensor of a checkpoint, whole or a block of its outermost rows.
public struct TensorView: Sendable, Hashable {
    /// Index into the checkpoint's ``Checkpoint/tensors``.
    public var tensor: Int
    /// Rows of the outermost dimension taken (for q/k/v inside a fused `in_proj_weight`), or nil for all.
    public var rows: Range<Int>?

    public init(tensor: Int, rows: Range<Int>? = nil) {
        self.tensor = tensor
        self.rows = rows
    }
}

/// How B's data must be read to line up with A's, element for element.
public enum PairTransform: String, Sendable, Hashable, Codable {
    /// Same element order; the shapes are equal.
    case identity
    /// Same element order; the shapes differ only by dimensions of size 1 (`[C,C,1,1]` ⇄ `[C,C]`).
    case reshape
    /// B is A with its first two dimensions swapped: `A[i][j][…]` lines up with `B[j][i][…]`
    /// (the transpose of a 2-D tensor; for a convolution kernel, output and input channels swapped).
    case transpose
}

/// Two tensor views that should hold the same values.
public struct AlignedPair: Sendable {
    /// The name the report uses (A's name, or a canonical name for cross-layout pairs).
    public var name: String
    /// The component the tensor belongs to.
    public var component: Component
    /// A's side (the reference).
    public var a: TensorView
    /// B's side.
    public var b: TensorView
    /// How B lines up with A.
    public var transform: PairTransform

    public init(name: String, component: Component, a: TensorView, b: TensorView, transform: PairTransform = .identity) {
        self.name = name
        self.component = component
        self.a = a
        self.b = b
        self.transform = transform
    }
}

/// A tensor present on one side only, with what it is.
public struct Leftover: Sendable {
    /// Index into the checkpoint's ``Checkpoint/tensors``.
    public var tensor: Int
    /// The component it belongs to.
    public var component: Component
    /// Why it has no counterpart.
    public var kind: LeftoverClass

    public init(tensor: Int, component: Component, kind: LeftoverClass) {
        self.tensor = tensor
        self.component = component
        self.kind = kind
    }
}

/// Why a tensor exists on one side only.
public enum LeftoverClass: String, Sendable, Hashable, Codable {
    /// A model weight the other side lacks: a real coverage gap.
    case weight
    /// An EMA copy (`model_ema.*`, `unet_ema/`).
    case ema
    /// A noise-schedule buffer some writers add (`betas`, `alphas_cumprod`, …).
    case scheduleBuffer = "schedule_buffer"
    /// A marker tensor (`v_pred`, `ztsnr`, `edm_vpred.*`).
    case marker
    /// A buffer one layout keeps and another drops (`position_ids`, `logit_scale`).
    case layoutOnly = "layout_only"
    /// A placeholder some converters write (SD2 `resblocks.23`, a ones `text_projection`).
    case placeholder
    /// A key some files prune (SDXL CLIP-L last layer, …).
    case optional
    /// Nothing ckdiff recognises.
    case unknown
    /// Denoiser weights `--ema` left out: a live UNet its EMA copy stands for, or an EMA copy
    /// (and its `decay`/`num_updates`) not compared because the live UNet stands for the side.
    case setAside = "set_aside"
}
