/// LDM/SGM EMA key names (checkpoint-formats §9), as ``KeyNamespaces/litEMA`` describes them.
///
/// `LitEma` names its buffers after the parameters of the `DiffusionWrapper` with
/// every dot removed, so `model.diffusion_model.input_blocks.1.1.proj_in.weight`
/// becomes `model_ema.diffusion_modelinput_blocks11proj_inweight`. The names are
/// built forward from known LDM keys, never parsed back (dot-stripping is lossy).
enum EMAKey {
    /// The prefix of every EMA key.
    static let prefix = KeyNamespaces.litEMA.prefix
    /// The EMA decay scalar.
    static let decay = KeyNamespaces.litEMA.decay
    /// The EMA update counter.
    static let numUpdates = KeyNamespaces.litEMA.numUpdates

    /// The EMA key of an LDM UNet key given without `model.diffusion_model.`.
    static func flat(_ unetKey: String) -> String {
        prefix + KeyNamespaces.litEMA.stripped + unetKey.filter { $0 != "." }
    }

    /// The alias without `diffusion_model` that some files use.
    static func flatAlias(_ unetKey: String) -> String {
        prefix + unetKey.filter { $0 != "." }
    }
}
