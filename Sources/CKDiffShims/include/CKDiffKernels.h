#ifndef CKDIFF_KERNELS_H
#define CKDIFF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The number of buckets of the |b - a| histogram (see ckd_block_compare).
#define CKD_HISTOGRAM_BUCKETS 12

/// The upper edge of histogram bucket `index + 1` (bucket 0 holds |d| = 0 exactly, the last bucket
/// everything above the last edge): 0, 1e-8, 1e-7, …, 1, 10 for index 0 … CKD_HISTOGRAM_BUCKETS − 2.
/// The one definition of the edges; out-of-range indices give 0.
double ckd_histogram_edge(int index);

/// Element-wise counts and extremes for one block of aligned values.
///
/// A pair (a[i], b[i]) is *finite* when both values are finite. Every field
/// except the non-finite counts is taken over finite pairs only.
typedef struct {
    /// Sum of |b - a| over finite pairs.
    double sum_abs;
    /// Σa², Σb², Σab and Σ(b - a)² over finite pairs (only when sums are asked for).
    double sum_aa, sum_bb, sum_ab, sum_dd;
    /// Largest |b - a| over finite pairs (0 when there are none).
    float max_abs;
    /// Block index of the first finite pair whose |b - a| equals max_abs, or -1
    /// when max_abs did not exceed the `running_max` passed in (nothing to record).
    int64_t max_index;
    /// Number of finite pairs.
    int64_t finite_pairs;
    /// Pairs outside tolerance: finite with |b - a| > atol + rtol * |a|, or not
    /// finite and neither the same infinity nor NaN on both sides.
    int64_t mismatched;
    int64_t a_nan, a_inf, b_nan, b_inf;
    /// Finite in A, NaN or infinite in B.
    int64_t new_nonfinite;
    /// Finite non-zero in A, zero in B.
    int64_t underflow_to_zero;
    /// Finite |a| > 65504, the largest binary16 value.
    int64_t a_beyond_f16;
    /// |b - a| over finite pairs: [0] exactly 0, [1] (0, 1e-8], [2] (1e-8, 1e-7], …,
    /// [9] (0.1, 1], [10] (1, 10], [11] above 10.
    int64_t histogram[CKD_HISTOGRAM_BUCKETS];
} ckd_block_stats;

/// The instruction-set levels of the block kernel. Every level runs the same code (the kernel is
/// written once in clang's vector extensions and compiled per level) and gives bit-identical
/// results; only the speed differs.
enum {
    /// No optional extension: the compiler's baseline instructions (SSE2 on x86-64, AdvSIMD on
    /// AArch64), binary16 rounded and decoded by arithmetic.
    CKD_SIMD_SCALAR = 0,
    /// x86-64 AVX2 with FMA and F16C.
    CKD_SIMD_AVX2 = 1,
    /// x86-64 AVX-512 (F, BW, DQ, VL).
    CKD_SIMD_AVX512 = 2,
    /// AArch64 AdvSIMD with the binary16 conversion instructions.
    CKD_SIMD_NEON = 3
};

/// Defined where the CKD_SIMD_* levels exist (for tools built against older kernels too).
#define CKD_HAS_SIMD_LEVELS 1

/// Whether this CPU and build run the level (1) or not (0); CKD_SIMD_SCALAR always runs.
int ckd_simd_level_available(int level);
/// The fastest level this CPU runs.
int ckd_simd_best_level(void);
/// The level the un-suffixed entry points use: the one set by ckd_simd_set_level; before any
/// such call, the one the environment variable CKDIFF_SIMD names (avx512, avx2, neon, scalar) when
/// the CPU runs it; else the best. (A CKDIFF_SIMD value naming no level, or one the CPU lacks, is
/// ignored here: programs refuse it themselves, as ckdiff does with exit status 2.)
int ckd_simd_level(void);
/// The CKD_SIMD_* level of a CKDIFF_SIMD value ("scalar", "avx2", "avx512", "neon"), or -1.
int ckd_simd_level_named(const char *name);
/// Makes the un-suffixed entry points use `level` (a negative level: the best again). Returns 0,
/// or -1 without changing anything when the CPU lacks the level. Results do not depend on it.
int ckd_simd_set_level(int level);

/// Compares one block of decoded values in a single fused pass.
///
/// Writes d[i] = |b[i] - a[i]| for finite pairs and 0 otherwise. Adds its counts to `stats`
/// (which the caller zeroes once) and, when the largest |b - a| is above `running_max`, sets
/// stats->max_abs and stats->max_index (its first element), else stats->max_index = -1. With
/// `with_sums`, also adds Σa², Σb², Σab and Σd². Without `with_sums` it sets a[i] and b[i] to 0
/// where the pair is not finite, so that dot products the caller takes afterwards over a, b and d
/// add exactly the finite pairs; with sums, a and b are left unchanged.
///
/// Summation order (the same on every level, so every level gives the same bits): the input is
/// cut into blocks of 4096 elements; in a block, element i goes to lane i mod 16; each lane adds
/// its values (|d|, and the products a·a, b·b, a·b, d·d, each rounded to binary32, no fused
/// multiply-add) in binary32 over runs of 32 values (512 elements of the block); each run's 16
/// lane sums are widened and added to 16 binary64 lanes, in run order; the 16 lanes are added as
/// (lane i + lane i+8), then i + 4, i + 2, i + 1; blocks add in order. Pairs that are not both
/// finite contribute zeros to every lane. The tolerance test is |b - a| > atol + rtol·|a| with the
/// product and the sum each rounded to binary32.
void ckd_block_compare(float *a, float *b, float *d, size_t n, float atol, float rtol,
                       float running_max, int with_sums, ckd_block_stats *stats);
/// ckd_block_compare at a given level (see CKD_SIMD_*; a level the CPU lacks runs CKD_SIMD_SCALAR).
void ckd_block_compare_at(int level, float *a, float *b, float *d, size_t n, float atol, float rtol,
                          float running_max, int with_sums, ckd_block_stats *stats);
/// ckd_block_compare at CKD_SIMD_SCALAR.
void ckd_block_compare_portable(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                float running_max, int with_sums, ckd_block_stats *stats);

/// Counts NaN and infinities in raw little-endian floating-point data by bit
/// pattern, without decoding. `element_bits` is 16 for F16/BF16 (with
/// `exponent_mask` 0x7c00 or 0x7f80), 32 for F32 (0x7f800000).
/// Returns the number of elements whose exponent field is all ones.
int64_t ckd_count_nonfinite_bits(const void *data, size_t count, int element_bits, uint32_t exponent_mask);

/// The value grids the exact-cast check rounds to.
enum {
    /// No check on this side.
    CKD_GRID_NONE = 0,
    /// binary32: a decoded value is already on it (a widening cast changes nothing).
    CKD_GRID_F32 = 1,
    /// IEEE binary16.
    CKD_GRID_F16 = 2,
    /// bfloat16.
    CKD_GRID_BF16 = 3
};

/// Counts of the exact-cast check; see ckd_cast_check.
typedef struct {
    int64_t exact, overflow, flushed, nan, mismatch, reverse_mismatch;
} ckd_cast_counts;

/// Checks whether b is a rounded to the grid `grid_b`, element by element, and
/// (with `grid_a`) whether a is b rounded to `grid_a`; adds to `counts`.
///
/// With r(x) the IEEE cast of x to the grid (round to nearest, ties to even,
/// ±Inf past the largest finite value, NaN kept), each element adds one to
/// exactly one of: `exact` (b = r(a) as values, +0 = -0, or both NaN; not an
/// overflow), `overflow` (a finite, b = r(a) = ±Inf), `flushed` (a finite and
/// non-zero, b = ±0, b ≠ r(a)), `nan` (b NaN, a not NaN, b ≠ r(a)), or
/// `mismatch`. `reverse_mismatch` counts elements where a is not r'(b), r'
/// rounding to `grid_a`. Either grid may be CKD_GRID_NONE to skip that side.
/// Run it before ckd_block_compare, which zeroes non-finite pairs in place.
void ckd_cast_check(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *counts);
/// ckd_cast_check at a given level (a level the CPU lacks runs CKD_SIMD_SCALAR).
void ckd_cast_check_at(int level, const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *counts);
/// ckd_cast_check at CKD_SIMD_SCALAR.
void ckd_cast_check_portable(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *counts);

/// Raw dtypes the fused kernel reads (little-endian storage).
enum { CKD_RAW_F32 = 1, CKD_RAW_F16 = 2, CKD_RAW_BF16 = 3 };

/// Decodes, compares and cast-checks one block straight from raw data, in one pass.
///
/// The same results, bit for bit, as decoding both sides to binary32, running ckd_cast_check
/// (when the dtypes differ: B's grid for A's values and A's grid for B's) and then
/// ckd_block_compare with sums. Returns 1, or 0 (having done nothing) for a dtype code other than
/// CKD_RAW_*.
int ckd_block_compare_raw(const void *ra, int ta, const void *rb, int tb, float *d, size_t n, float atol, float rtol,
                          float running_max, ckd_block_stats *stats, ckd_cast_counts *counts);
/// ckd_block_compare_raw at a given level (a level the CPU lacks runs CKD_SIMD_SCALAR).
int ckd_block_compare_raw_at(int level, const void *ra, int ta, const void *rb, int tb, float *d, size_t n,
                             float atol, float rtol, float running_max, ckd_block_stats *stats, ckd_cast_counts *counts);
/// Hints of ckd_block_compare_raw_using. None changes a result; the kernel now ignores them.
enum {
    /// Round to bfloat16 with vcvtneps2bf16 where the CPU has it.
    CKD_RAW_BF16_INSTRUCTION = 1,
    /// Every block of this tensor so far was an exact cast.
    CKD_RAW_EXACT_CAST_SO_FAR = 2
};
/// ckd_block_compare_raw with CKD_RAW_* hints (which change no result).
int ckd_block_compare_raw_using(int flags, const void *ra, int ta, const void *rb, int tb, float *d, size_t n,
                                float atol, float rtol, float running_max, ckd_block_stats *stats, ckd_cast_counts *counts);
/// Whether this CPU has AVX512_BF16 (vcvtneps2bf16). No kernel level uses it now (bfloat16 is
/// rounded by integer arithmetic everywhere); kept for callers.
int ckd_avx512bf16_available(void);

#endif
