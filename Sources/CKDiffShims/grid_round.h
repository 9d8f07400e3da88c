// Internal to CKDiffShims: the AVX-512 rounding of binary32 lanes to a value grid,
// shared by the cast check and the fused raw-data kernel.
#ifndef CKDIFF_GRID_ROUND_H
#define CKDIFF_GRID_ROUND_H
#include "include/CKDiffKernels.h"
#if defined(__x86_64__)
#include <immintrin.h>

/// x rounded to the grid (round to nearest, ties to even, ±Inf past the largest finite value,
/// NaN kept) and widened back; CKD_GRID_F32 and CKD_GRID_NONE return x.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,f16c,avx2"), always_inline))
static inline __m512 ckd_round_to_grid_avx512(__m512 x, int grid) {
    if (grid == CKD_GRID_F16)
        return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    if (grid == CKD_GRID_BF16) {
        __m512i u = _mm512_castps_si512(x);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
        __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
        r = _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
        __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        return _mm512_mask_blend_ps(nan, _mm512_castsi512_ps(r), x);
    }
    return x;
}

/// ckd_round_to_grid_avx512 for lanes known to be finite (no NaN to keep).
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,f16c,avx2"), always_inline))
static inline __m512 ckd_round_finite_to_grid_avx512(__m512 x, int grid) {
    if (grid == CKD_GRID_BF16) {
        __m512i u = _mm512_castps_si512(x);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
        __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
        return _mm512_castsi512_ps(_mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u)));
    }
    return ckd_round_to_grid_avx512(x, grid);
}
#endif
#endif
