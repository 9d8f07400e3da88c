// The exact-cast check: is B, element for element, A rounded to B's dtype?
#include "CKDiffShims.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CKD_X86 1
#endif

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// bfloat16 rounding of a binary32 value, widened back: round to nearest, ties to even,
// overflow to ±Inf by the carry into the exponent; NaN stays NaN.
static inline float round_bf16(float x) {
    if (isnan(x)) return x;
    uint32_t u = f32_bits(x);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    return bits_f32(u);
}

#define CHUNK 1024

// Rounds src to the grid into dst (F32: a copy).
static void round_to_grid_portable(const float *src, float *dst, size_t n, int grid) {
    switch (grid) {
    case CKD_GRID_F16: ckd_f32_round_through_f16_portable(src, dst, n); break;
    case CKD_GRID_BF16: for (size_t i = 0; i < n; i++) dst[i] = round_bf16(src[i]); break;
    default: memcpy(dst, src, n * sizeof(float)); break;
    }
}

static inline int same_value(float x, float y) { return x == y || (isnan(x) && isnan(y)); }

void ckd_cast_check_portable(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    float t[CHUNK];
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        const float *pa = a + start, *pb = b + start;
        if (grid_b != CKD_GRID_NONE) {
            round_to_grid_portable(pa, t, m, grid_b);
            for (size_t i = 0; i < m; i++) {
                float av = pa[i], bv = pb[i];
                if (same_value(bv, t[i])) {
                    if (isfinite(av) && isinf(bv)) c->overflow++; else c->exact++;
                } else if (bv == 0.0f && av != 0.0f && isfinite(av)) {
                    c->flushed++;
                } else if (isnan(bv) && !isnan(av)) {
                    c->nan++;
                } else {
                    c->mismatch++;
                }
            }
        }
        if (grid_a != CKD_GRID_NONE) {
            round_to_grid_portable(pb, t, m, grid_a);
            for (size_t i = 0; i < m; i++)
                if (!same_value(pa[i], t[i])) c->reverse_mismatch++;
        }
    }
}

#ifdef CKD_X86
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,f16c,avx2")))

AVX512 __attribute__((always_inline)) static inline __m512 round_to_grid_avx512(__m512 x, int grid) {
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

// The vector check, one instantiation per pair of grids (the grids are constants
// after inlining). Counts live in vector lanes (a mask-add per test), so no mask
// travels to a general register in the loop; the tests that only NaN, infinities
// or zeros in B can pass run only in groups that hold such a value or a mismatch.
AVX512 __attribute__((always_inline)) static inline void cast_check_body(const float *a, const float *b, size_t n,
                                                                       const int grid_b, const int grid_a, ckd_cast_counts *c) {
    const __m512 inf = _mm512_set1_ps(INFINITY), zero = _mm512_setzero_ps();
    const __m512i one = _mm512_set1_epi32(1);
    __m512i same = _mm512_setzero_si512(), overflow = _mm512_setzero_si512(), flushed = _mm512_setzero_si512();
    __m512i nan = _mm512_setzero_si512(), reverse_same = _mm512_setzero_si512();
    const size_t groups = n / 16;
    for (size_t g = 0; g < groups; g++) {
        __m512 va = _mm512_loadu_ps(a + g * 16), vb = _mm512_loadu_ps(b + g * 16);
        if (grid_b != CKD_GRID_NONE) {
            __m512 t = round_to_grid_avx512(va, grid_b);
            __mmask16 eq = _mm512_cmp_ps_mask(vb, t, _CMP_EQ_OQ);
            __m512 ab = _mm512_abs_ps(vb);
            __mmask16 b_special = _mm512_cmp_ps_mask(ab, inf, _CMP_NLT_UQ);   // ±Inf or NaN
            if (__builtin_expect(b_special != 0, 0)) {
                __mmask16 b_nan = _mm512_cmp_ps_mask(vb, vb, _CMP_UNORD_Q);
                eq |= b_nan & _mm512_cmp_ps_mask(t, t, _CMP_UNORD_Q);
                __mmask16 a_finite = _mm512_cmp_ps_mask(_mm512_abs_ps(va), inf, _CMP_LT_OQ);
                __mmask16 b_inf = _mm512_cmp_ps_mask(ab, inf, _CMP_EQ_OQ);
                overflow = _mm512_mask_add_epi32(overflow, eq & a_finite & b_inf, overflow, one);
                __mmask16 a_number = _mm512_cmp_ps_mask(va, va, _CMP_ORD_Q);
                nan = _mm512_mask_add_epi32(nan, (__mmask16)~eq & b_nan & a_number, nan, one);
            }
            same = _mm512_mask_add_epi32(same, eq, same, one);
            __mmask16 ne = (__mmask16)~eq;
            if (ne) {
                __m512 aa = _mm512_abs_ps(va);
                __mmask16 f = _mm512_mask_cmp_ps_mask(ne, vb, zero, _CMP_EQ_OQ)
                            & _mm512_cmp_ps_mask(aa, zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(aa, inf, _CMP_LT_OQ);
                flushed = _mm512_mask_add_epi32(flushed, f, flushed, one);
            }
        }
        if (grid_a != CKD_GRID_NONE) {
            __m512 r = round_to_grid_avx512(vb, grid_a);
            __mmask16 req = _mm512_cmp_ps_mask(va, r, _CMP_EQ_OQ);
            // NaN = NaN counts as the same value; only a group with NaN in A can hold such a lane.
            __mmask16 a_nan = _mm512_cmp_ps_mask(va, va, _CMP_UNORD_Q);
            if (__builtin_expect(a_nan != 0, 0))
                req |= a_nan & _mm512_cmp_ps_mask(r, r, _CMP_UNORD_Q);
            reverse_same = _mm512_mask_add_epi32(reverse_same, req, reverse_same, one);
        }
    }
    const int64_t total = (int64_t)groups * 16;
    if (grid_b != CKD_GRID_NONE) {
        int64_t s = _mm512_reduce_add_epi32(same), o = _mm512_reduce_add_epi32(overflow);
        int64_t f = _mm512_reduce_add_epi32(flushed), q = _mm512_reduce_add_epi32(nan);
        c->exact += s - o;
        c->overflow += o;
        c->flushed += f;
        c->nan += q;
        c->mismatch += total - s - f - q;
    }
    if (grid_a != CKD_GRID_NONE) c->reverse_mismatch += total - _mm512_reduce_add_epi32(reverse_same);
    if (groups * 16 < n)
        ckd_cast_check_portable(a + groups * 16, b + groups * 16, n - groups * 16, grid_b, grid_a, c);
}

#define CASE_A(GB) \
    switch (grid_a) { \
    case CKD_GRID_F32: cast_check_body(a, b, n, GB, CKD_GRID_F32, c); return; \
    case CKD_GRID_F16: cast_check_body(a, b, n, GB, CKD_GRID_F16, c); return; \
    case CKD_GRID_BF16: cast_check_body(a, b, n, GB, CKD_GRID_BF16, c); return; \
    default: cast_check_body(a, b, n, GB, CKD_GRID_NONE, c); return; \
    }

AVX512 static void cast_check_avx512(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    switch (grid_b) {
    case CKD_GRID_F32: CASE_A(CKD_GRID_F32)
    case CKD_GRID_F16: CASE_A(CKD_GRID_F16)
    case CKD_GRID_BF16: CASE_A(CKD_GRID_BF16)
    default: CASE_A(CKD_GRID_NONE)
    }
}
#endif

void ckd_cast_check_at(int level, const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
#ifdef CKD_X86
    if (level >= 2 && ckd_simd_level() >= 2 && (grid_b != CKD_GRID_F16 || ckd_f16c_available()) && (grid_a != CKD_GRID_F16 || ckd_f16c_available())) {
        cast_check_avx512(a, b, n, grid_b, grid_a, c);
        return;
    }
#endif
    ckd_cast_check_portable(a, b, n, grid_b, grid_a, c);
}

void ckd_cast_check(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    ckd_cast_check_at(ckd_simd_level(), a, b, n, grid_b, grid_a, c);
}
