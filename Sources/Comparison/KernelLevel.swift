import CKDiffShims
import Foundation

/// An instruction-set level of the block kernel (`CKDIFF_SIMD`).
///
/// Every level runs the same kernel source, compiled for its target, and gives bit-identical
/// statistics (same counts, same maximum, the same bits in every `Double` sum), hence identical
/// reports: the level changes the speed only. Sums follow one fixed order, the same on every
/// level: per block of 4096 elements, element i in lane i mod 16, binary32 runs of 32 values per
/// lane (each product rounded to binary32, no fused multiply-add), each run widened and added to
/// the lane's binary64 sum, the 16 lanes added pairwise (i + 8, i + 4, i + 2, i + 1).
public enum KernelLevel: String, CaseIterable, Sendable, CustomStringConvertible {
    /// No optional extension: baseline instructions, binary16 rounded by arithmetic.
    case scalar
    /// x86-64 AVX2 with FMA and F16C.
    case avx2
    /// x86-64 AVX-512 (F, BW, DQ, VL).
    case avx512
    /// AArch64 AdvSIMD with the binary16 conversions.
    case neon

    /// The C kernel's level code (`CKD_SIMD_*`).
    var code: Int32 {
        switch self {
        case .scalar: Int32(CKD_SIMD_SCALAR)
        case .avx2: Int32(CKD_SIMD_AVX2)
        case .avx512: Int32(CKD_SIMD_AVX512)
        case .neon: Int32(CKD_SIMD_NEON)
        }
    }

    init?(code: Int32) {
        guard let level = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = level
    }

    public var description: String { rawValue }

    /// Whether this CPU (and this build's architecture) runs the level.
    public var isAvailable: Bool { ckd_simd_level_available(code) == 1 }

    /// The levels this CPU runs, fastest first.
    public static var available: [KernelLevel] {
        [.avx512, .avx2, .neon, .scalar].filter(\.isAvailable)
    }

    /// The fastest level this CPU runs.
    public static var best: KernelLevel { KernelLevel(code: ckd_simd_best_level()) ?? .scalar }

    /// The level the kernels use now: the one forced, else ``best``.
    public static var current: KernelLevel { KernelLevel(code: ckd_simd_level()) ?? .scalar }

    /// Makes every later comparison in this process use `level` (nil: ``best`` again).
    ///
    /// - Throws: ``KernelLevelError/unavailable(_:available:)`` when this CPU lacks the level;
    ///   nothing changes then.
    public static func force(_ level: KernelLevel?) throws(KernelLevelError) {
        guard let level else {
            _ = ckd_simd_set_level(-1)
            return
        }
        guard ckd_simd_set_level(level.code) == 0 else {
            throw .unavailable(level, available: available)
        }
    }

    /// The environment variable that forces a level.
    public static let environmentVariable = "CKDIFF_SIMD"

    /// Applies `CKDIFF_SIMD` from `environment`: unset or empty leaves ``best``; a level name
    /// forces that level.
    ///
    /// - Throws: ``KernelLevelError`` for a value that names no level, or a level this CPU lacks.
    ///   The executable prints it as one line and exits with status 2.
    public static func applyEnvironment(_ environment: [String: String]) throws(KernelLevelError) {
        guard let value = environment[environmentVariable], !value.isEmpty else { return }
        guard let level = KernelLevel(rawValue: value) else { throw .unknown(value) }
        try force(level)
    }

    /// ``applyEnvironment(_:)`` with this process's environment: what the executable calls first,
    /// printing a thrown error as `ckdiff: error: …` and exiting with status 2.
    public static func applyEnvironment() throws(KernelLevelError) {
        try applyEnvironment(ProcessInfo.processInfo.environment)
    }
}

/// A `CKDIFF_SIMD` value that cannot be honoured.
public enum KernelLevelError: Error, Equatable, CustomStringConvertible {
    /// The value names no level.
    case unknown(String)
    /// The CPU lacks the level; `available` lists those it runs.
    case unavailable(KernelLevel, available: [KernelLevel])

    public var description: String {
        switch self {
        case .unknown(let value):
            return "CKDIFF_SIMD=\(value) names no kernel level (avx512, avx2, neon, scalar)"
        case .unavailable(let level, let available):
            return "CKDIFF_SIMD=\(level): this CPU lacks that level (it runs: "
                + available.map(\.rawValue).joined(separator: ", ") + ")"
        }
    }
}
