#ifndef CKDIFF_KERNELS_H
#define CKDIFF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The number of buckets of the |b - a| histogram (see ckd_block_compare).
#define CKD_HISTOGRAM_BUCKETS 12

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

/// Compares one block of decoded values in a single fused pass.
///
/// Writes d[i] = |b[i] - a[i]| for finite pairs and 0 otherwise, and sets a[i]
/// and b[i] to 0 where the pair is not finite (the vector path also zeroes, and
/// sums itself, the other pairs of a group of 8 that holds a non-finite value),
/// so that dot products taken afterwards over a, b and d (‖a‖², ‖b‖², a·b, ‖d‖²)
/// add to stats->sum_* exactly the finite pairs. Adds its counts to `stats`
/// (which the caller zeroes once) and, when the block's largest |b - a| is above
/// `running_max`, sets stats->max_abs and stats->max_index (the first such
/// element of the block). With `with_sums`, also adds Σa², Σb², Σab and Σd²:
/// products and sums of runs of 32 elements per lane are taken in float, then
/// added in double (a relative error near 2⁻²⁴·√128 on each partial sum).
/// Uses AVX2 when the CPU has it, else portable C (which sums in double); both
/// give the same counts and maxima.
void ckd_block_compare(float *a, float *b, float *d, size_t n, float atol, float rtol,
                       float running_max, int with_sums, ckd_block_stats *stats);

/// The same computation, always with the portable code (for tests).
void ckd_block_compare_portable(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                float running_max, int with_sums, ckd_block_stats *stats);

/// Counts NaN and infinities in raw little-endian floating-point data by bit
/// pattern, without decoding. `element_bits` is 16 for F16/BF16 (with
/// `exponent_mask` 0x7c00 or 0x7f80), 32 for F32 (0x7f800000).
/// Returns the number of elements whose exponent field is all ones.
int64_t ckd_count_nonfinite_bits(const void *data, size_t count, int element_bits, uint32_t exponent_mask);

#endif
