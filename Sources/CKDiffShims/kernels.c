// The fused per-block comparison kernel: one pass over decoded A and B values
// computes every count, maximum and histogram bucket; the dot products are left
// to cblas on the same (cache-resident) block.
#include "CKDiffKernels.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CKD_X86 1
#endif

static const float kEdges[CKD_HISTOGRAM_BUCKETS - 1] = {
    0.0f, 1e-8f, 1e-7f, 1e-6f, 1e-5f, 1e-4f, 1e-3f, 1e-2f, 1e-1f, 1.0f, 10.0f
};

static inline int bucket_of(float ad) {
    int k = 0;
    while (k < CKD_HISTOGRAM_BUCKETS - 1 && ad > kEdges[k]) k++;
    return k;
}

// One element, the reference semantics both paths follow.
static inline void compare_one(float *a, float *b, float *d, size_t i, float atol, float rtol,
                               ckd_block_stats *s, float *block_max, int64_t *block_max_index) {
    float av = a[i], bv = b[i];
    int fa = isfinite(av), fb = isfinite(bv);
    if (isnan(av)) s->a_nan++; else if (!fa) s->a_inf++;
    if (isnan(bv)) s->b_nan++; else if (!fb) s->b_inf++;
    if (!(fa && fb)) {
        if (fa) s->new_nonfinite++;
        int same = (av == bv) || (isnan(av) && isnan(bv));
        if (!same) s->mismatched++;
        a[i] = 0.0f; b[i] = 0.0f; d[i] = 0.0f;
        return;
    }
    float dv = bv - av;
    float ad = fabsf(dv);
    float aa = fabsf(av);
    d[i] = dv;
    s->finite_pairs++;
    s->sum_abs += (double)ad;
    if (ad > atol + rtol * aa) s->mismatched++;
    if (av != 0.0f && bv == 0.0f) s->underflow_to_zero++;
    if (aa > 65504.0f) s->a_beyond_f16++;
    s->histogram[bucket_of(ad)]++;
    if (ad > *block_max) { *block_max = ad; *block_max_index = (int64_t)i; }
}

void ckd_block_compare_portable(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                float running_max, ckd_block_stats *s) {
    float block_max = running_max;
    int64_t block_index = -1;
    for (size_t i = 0; i < n; i++) compare_one(a, b, d, i, atol, rtol, s, &block_max, &block_index);
    if (block_index >= 0) { s->max_abs = block_max; s->max_index = block_index; }
    else s->max_index = -1;
}

#ifdef CKD_X86
__attribute__((target("avx2,fma")))
static inline int64_t hsum_epi32(__m256i v) {
    __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    __m128i s = _mm_add_epi32(lo, hi);
    int32_t out[4];
    _mm_storeu_si128((__m128i *)out, s);
    // counters are negated mask sums: each hit subtracted -1
    return (int64_t)out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx2,fma")))
static void block_compare_avx2(float *a, float *b, float *d, size_t n, float atol, float rtol,
                               float running_max, ckd_block_stats *s) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(INFINITY);
    const __m256 vatol = _mm256_set1_ps(atol), vrtol = _mm256_set1_ps(rtol);
    const __m256 vzero = _mm256_setzero_ps();
    const __m256 vf16max = _mm256_set1_ps(65504.0f);
    __m256 edges[CKD_HISTOGRAM_BUCKETS - 1];
    for (int k = 0; k < CKD_HISTOGRAM_BUCKETS - 1; k++) edges[k] = _mm256_set1_ps(kEdges[k]);
    __m256i above[CKD_HISTOGRAM_BUCKETS - 1];
    for (int k = 0; k < CKD_HISTOGRAM_BUCKETS - 1; k++) above[k] = _mm256_setzero_si256();
    __m256i mism = _mm256_setzero_si256(), under = _mm256_setzero_si256(), beyond = _mm256_setzero_si256();
    __m256d sum0 = _mm256_setzero_pd(), sum1 = _mm256_setzero_pd();
    __m256 vmax = _mm256_setzero_ps();
    int64_t fast_pairs = 0;
    float scalar_max = 0.0f;      // largest |d| seen on the scalar route
    int64_t unused_index = -1;
    size_t i = 0;
    // Vector counters hold at most 2^31 hits per lane; blocks are far smaller.
    for (; i + 8 <= n; i += 8) {
        __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        __m256 aa = _mm256_and_ps(va, absmask), ab = _mm256_and_ps(vb, absmask);
        __m256 fin = _mm256_and_ps(_mm256_cmp_ps(aa, inf, _CMP_LT_OQ), _mm256_cmp_ps(ab, inf, _CMP_LT_OQ));
        if (_mm256_movemask_ps(fin) != 0xff) {
            // rare: a non-finite value in this group of 8; take the exact scalar route
            for (size_t j = i; j < i + 8; j++) compare_one(a, b, d, j, atol, rtol, s, &scalar_max, &unused_index);
            continue;
        }
        __m256 vd = _mm256_sub_ps(vb, va);
        __m256 ad = _mm256_and_ps(vd, absmask);
        _mm256_storeu_ps(d + i, vd);
        sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(ad)));
        sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(ad, 1)));
        vmax = _mm256_max_ps(vmax, ad);
        __m256 thr = _mm256_fmadd_ps(vrtol, aa, vatol);
        mism = _mm256_sub_epi32(mism, _mm256_castps_si256(_mm256_cmp_ps(ad, thr, _CMP_GT_OQ)));
        __m256 anz = _mm256_cmp_ps(va, vzero, _CMP_NEQ_OQ), bz = _mm256_cmp_ps(vb, vzero, _CMP_EQ_OQ);
        under = _mm256_sub_epi32(under, _mm256_castps_si256(_mm256_and_ps(anz, bz)));
        beyond = _mm256_sub_epi32(beyond, _mm256_castps_si256(_mm256_cmp_ps(aa, vf16max, _CMP_GT_OQ)));
        for (int k = 0; k < CKD_HISTOGRAM_BUCKETS - 1; k++)
            above[k] = _mm256_sub_epi32(above[k], _mm256_castps_si256(_mm256_cmp_ps(ad, edges[k], _CMP_GT_OQ)));
        fast_pairs += 8;
    }
    for (; i < n; i++) compare_one(a, b, d, i, atol, rtol, s, &scalar_max, &unused_index);
    // fold the vector part into the stats
    double sums[4];
    _mm256_storeu_pd(sums, _mm256_add_pd(sum0, sum1));
    s->sum_abs += (sums[0] + sums[1]) + (sums[2] + sums[3]);
    s->finite_pairs += fast_pairs;
    s->mismatched += hsum_epi32(mism);
    s->underflow_to_zero += hsum_epi32(under);
    s->a_beyond_f16 += hsum_epi32(beyond);
    int64_t counts[CKD_HISTOGRAM_BUCKETS - 1];
    for (int k = 0; k < CKD_HISTOGRAM_BUCKETS - 1; k++) counts[k] = hsum_epi32(above[k]);
    // counts[k] = number of fast pairs with |d| > edge k; turn cumulative counts into buckets
    s->histogram[0] += fast_pairs - counts[0];
    for (int k = 1; k < CKD_HISTOGRAM_BUCKETS - 1; k++) s->histogram[k] += counts[k - 1] - counts[k];
    s->histogram[CKD_HISTOGRAM_BUCKETS - 1] += counts[CKD_HISTOGRAM_BUCKETS - 2];
    // The block maximum; its first occurrence is looked up only when it beats the running one.
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float overall = scalar_max;
    for (int k = 0; k < 8; k++) if (lanes[k] > overall) overall = lanes[k];
    s->max_index = -1;
    if (overall > running_max) {
        // d is 0 for non-finite pairs and overall > 0, so the first match is a finite pair
        for (size_t j = 0; j < n; j++) {
            if (fabsf(d[j]) == overall) { s->max_abs = overall; s->max_index = (int64_t)j; break; }
        }
    }
}

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    }
    return cached;
}
#endif

void ckd_block_compare(float *a, float *b, float *d, size_t n, float atol, float rtol,
                       float running_max, ckd_block_stats *s) {
#ifdef CKD_X86
    if (has_avx2()) { block_compare_avx2(a, b, d, n, atol, rtol, running_max, s); return; }
#endif
    ckd_block_compare_portable(a, b, d, n, atol, rtol, running_max, s);
}

int64_t ckd_count_nonfinite_bits(const void *data, size_t count, int element_bits, uint32_t exponent_mask) {
    const unsigned char *p = (const unsigned char *)data;
    int64_t hits = 0;
    if (element_bits == 16) {
        uint16_t m = (uint16_t)exponent_mask;
        for (size_t i = 0; i < count; i++) {
            uint16_t v; memcpy(&v, p + 2 * i, 2);
            hits += (v & m) == m;
        }
    } else if (element_bits == 32) {
        for (size_t i = 0; i < count; i++) {
            uint32_t v; memcpy(&v, p + 4 * i, 4);
            hits += (v & exponent_mask) == exponent_mask;
        }
    } else if (element_bits == 64) {
        uint64_t m = 0x7ff0000000000000ull;
        for (size_t i = 0; i < count; i++) {
            uint64_t v; memcpy(&v, p + 8 * i, 8);
            hits += (v & m) == m;
        }
    }
    return hits;
}
