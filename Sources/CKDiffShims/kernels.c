// The fused per-block comparison kernel: one pass over decoded A and B values
// computes the counts, the maximum, Σ|d| and (optionally) the four dot products;
// a second pass over the stored differences, in cache, fills the histogram and
// the rare counts only where the block can contribute to them.
#include "CKDiffKernels.h"
#include "CKDiffShims.h"
#include "grid_round.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CKD_X86 1
#endif

#define EDGES (CKD_HISTOGRAM_BUCKETS - 1)
// The bucket edges are decimal, as doubles. For a float x, x > e (in double) holds
// exactly when x > e_f, where e_f is e rounded down to a float; these are those e_f.
static float kEdges[EDGES];
// The same edges as binary32 bit patterns: for non-negative finite x, x > kEdges[k] exactly when
// the bits of x, as a signed integer, are greater than kEdgeBits[k].
static int32_t kEdgeBits[EDGES];
// For |d| that are binary16 values (see block_compare_raw_body): the bits of the largest binary16
// value at or below each edge, so that for such an x, x > kEdges[k] exactly when its bits, as a
// signed 16-bit integer, are greater than kEdgeBits16[k].
static int16_t kEdgeBits16[EDGES];
static const double kDecimalEdges[EDGES] = {0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

__attribute__((constructor)) static void init_edges(void) {
    for (int k = 0; k < EDGES; k++) {
        float f = (float)kDecimalEdges[k];
        if ((double)f > kDecimalEdges[k]) f = nextafterf(f, 0.0f);
        kEdges[k] = f;
        memcpy(&kEdgeBits[k], &f, sizeof f);
        // Finite positive binary16 values increase with their bits: the last one not above the
        // edge, by bisection over 0 (not above any edge) to 0x7bff (65504, above every edge).
        uint16_t lo = 0, hi = 0x7bff;
        while (hi - lo > 1) {
            uint16_t mid = (uint16_t)((lo + hi) / 2);
            float v;
            ckd_f16_to_f32_portable(&mid, &v, 1);
            if (v > f) hi = mid; else lo = mid;
        }
        kEdgeBits16[k] = (int16_t)lo;
    }
}

static inline int bucket_of(float ad) {
    int k = 0;
    while (k < EDGES && ad > kEdges[k]) k++;
    return k;
}

// One element with the reference semantics; both paths use it for what the
// vector code leaves aside (groups holding a non-finite value, the tail).
static inline void compare_one(float *a, float *b, float *d, size_t i, float atol, float rtol,
                               int add_sums, ckd_block_stats *s, float *block_max, int64_t *block_max_index) {
    float av = a[i], bv = b[i];
    int fa = isfinite(av), fb = isfinite(bv);
    if (isnan(av)) s->a_nan++; else if (!fa) s->a_inf++;
    if (isnan(bv)) s->b_nan++; else if (!fb) s->b_inf++;
    if (fa && fabsf(av) > 65504.0f) s->a_beyond_f16++;
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
    d[i] = ad;
    s->finite_pairs++;
    s->sum_abs += (double)ad;
    if (add_sums) {
        s->sum_aa += (double)av * av;
        s->sum_bb += (double)bv * bv;
        s->sum_ab += (double)av * bv;
        s->sum_dd += (double)dv * dv;
    }
    if (ad > atol + rtol * aa) s->mismatched++;
    if (av != 0.0f && bv == 0.0f) s->underflow_to_zero++;
    s->histogram[bucket_of(ad)]++;
    if (ad > *block_max) { *block_max = ad; *block_max_index = (int64_t)i; }
}

void ckd_block_compare_portable(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                float running_max, int with_sums, ckd_block_stats *s) {
    float block_max = running_max;
    int64_t block_index = -1;
    for (size_t i = 0; i < n; i++) compare_one(a, b, d, i, atol, rtol, with_sums, s, &block_max, &block_index);
    if (block_index >= 0) { s->max_abs = block_max; s->max_index = block_index; }
    else s->max_index = -1;
}

#ifdef CKD_X86
#define AVX2 __attribute__((target("avx2,fma")))

// The end of a vector block pass, shared by the AVX2 and AVX-512 paths: edge counts become
// histogram buckets, and the block maximum (over the first `vector_len` elements of d) and its first
// index are recorded when they beat the running maximum, the scalar elements' own maximum
// (`scalar_max` at `scalar_index`, -1 for none) taken into account.
static void finish_block(ckd_block_stats *s, const int64_t counts[EDGES], int64_t fast_pairs, const float *d,
                         size_t vector_len, float block_max, float running_max, float scalar_max, int64_t scalar_index) {
    s->histogram[0] += fast_pairs - counts[0];
    for (int k = 1; k < EDGES; k++) s->histogram[k] += counts[k - 1] - counts[k];
    s->histogram[EDGES] += counts[EDGES - 1];

    s->max_index = -1;
    int64_t first = -1;
    if (block_max > running_max) {
        for (size_t j = 0; j < vector_len; j++) {
            if (d[j] == block_max) { first = (int64_t)j; break; }
        }
    }
    if (scalar_index >= 0 && (first < 0 || scalar_max > block_max || (scalar_max == block_max && scalar_index < first))) {
        s->max_abs = scalar_max;
        s->max_index = scalar_index;
    } else if (first >= 0) {
        s->max_abs = block_max;
        s->max_index = first;
    }
}

AVX2 static inline int64_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    int32_t out[4];
    _mm_storeu_si128((__m128i *)out, s);
    return (int64_t)out[0] + out[1] + out[2] + out[3];
}

// Adds the 8 floats of v into 4 doubles in memory.
AVX2 static inline void widen_into(double *acc, __m256 v) {
    __m256d a = _mm256_loadu_pd(acc);
    a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    _mm256_storeu_pd(acc, a);
}

AVX2 static inline double hsum_pd(__m256d v) {
    double out[4];
    _mm256_storeu_pd(out, v);
    return (out[0] + out[1]) + (out[2] + out[3]);
}

/// Groups of 8 elements per float accumulation run before the partial sums go to double.
#define RUN 32

// Pass 1 keeps only what needs a, b and d together in registers (the difference,
// its maximum, Σ|d| and the dot products); the counts that compare |d| with a
// threshold or an edge are taken in later passes over the stored |d|, a and b,
// still in cache, so no accumulator spills to the stack. A group of 8 holding a
// non-finite value (or a difference that overflows) is handled by compare_one,
// which counts it in full; its a, b and d are then zeroed so later passes and
// dot products see nothing there.
AVX2 __attribute__((always_inline)) static inline void block_compare_avx2_body(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                                float running_max, const int with_sums, ckd_block_stats *s) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(INFINITY);
    // Per run, the float partial sums Σ|d|, Σa², Σb², Σab, Σd² (8 lanes each) are stored
    // here and added in double after the pass: no double register and no call in the loop.
    float partial[(4096 / 8 + RUN - 1) / RUN][5][8];
    size_t runs = 0;
    __m256 vmax = _mm256_setzero_ps(), bmin = inf, amax = _mm256_setzero_ps();
    const size_t groups = n / 8;
    uint64_t rare[(4096 / 8) / 64];      // groups holding a non-finite value or an overflowing difference
    memset(rare, 0, sizeof rare);
    int64_t fast_pairs = 0;
    float scalar_max = running_max;
    int64_t scalar_index = -1;
    size_t g = 0;
    while (g < groups) {
        size_t run_end = g + RUN < groups ? g + RUN : groups;
        __m256 fabs_ = _mm256_setzero_ps(), faa = _mm256_setzero_ps(), fbb = _mm256_setzero_ps();
        __m256 fab = _mm256_setzero_ps(), fdd = _mm256_setzero_ps();
        for (; g < run_end; g++) {
            size_t i = g * 8;
            __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
            __m256 vd = _mm256_sub_ps(vb, va);
            __m256 ad = _mm256_and_ps(vd, absmask);
            // |b - a| is finite exactly when both are finite and the difference does not overflow
            if (__builtin_expect(_mm256_movemask_ps(_mm256_cmp_ps(ad, inf, _CMP_LT_OQ)) != 0xff, 0)) {
                // handled after this pass, so no call sits in the loop (it made the accumulators spill)
                rare[g / 64] |= 1ull << (g % 64);
                continue;
            }
            _mm256_storeu_ps(d + i, ad);
            fabs_ = _mm256_add_ps(fabs_, ad);
            if (with_sums) {
                faa = _mm256_fmadd_ps(va, va, faa);
                fbb = _mm256_fmadd_ps(vb, vb, fbb);
                fab = _mm256_fmadd_ps(va, vb, fab);
                fdd = _mm256_fmadd_ps(vd, vd, fdd);
            }
            vmax = _mm256_max_ps(vmax, ad);
            bmin = _mm256_min_ps(bmin, _mm256_and_ps(vb, absmask));
            amax = _mm256_max_ps(amax, _mm256_and_ps(va, absmask));
            fast_pairs += 8;
        }
        _mm256_storeu_ps(partial[runs][0], fabs_);
        _mm256_storeu_ps(partial[runs][1], faa);
        _mm256_storeu_ps(partial[runs][2], fbb);
        _mm256_storeu_ps(partial[runs][3], fab);
        _mm256_storeu_ps(partial[runs][4], fdd);
        runs++;
    }
    double dsum[5][4];
    memset(dsum, 0, sizeof dsum);
    for (size_t r = 0; r < runs; r++)
        for (int q = 0; q < (with_sums ? 5 : 1); q++)
            widen_into(dsum[q], _mm256_loadu_ps(partial[r][q]));
    // The rare groups, in order: counted in full by the exact routine, then zeroed.
    for (size_t w = 0; w < sizeof rare / sizeof rare[0]; w++) {
        for (uint64_t bits = rare[w]; bits != 0; bits &= bits - 1) {
            size_t i = (w * 64 + (size_t)__builtin_ctzll(bits)) * 8;
            for (size_t j = i; j < i + 8; j++)
                compare_one(a, b, d, j, atol, rtol, 1, s, &scalar_max, &scalar_index);
            for (size_t j = i; j < i + 8; j++) { a[j] = 0.0f; b[j] = 0.0f; d[j] = 0.0f; }
        }
    }
    // The tail keeps its a, b and d (cblas covers its dot products when asked to);
    // later passes cover whole groups only.
    for (size_t i = groups * 8; i < n; i++)
        compare_one(a, b, d, i, atol, rtol, with_sums, s, &scalar_max, &scalar_index);

    s->sum_abs += hsum_pd(_mm256_loadu_pd(dsum[0]));
    if (with_sums) {
        s->sum_aa += hsum_pd(_mm256_loadu_pd(dsum[1]));
        s->sum_bb += hsum_pd(_mm256_loadu_pd(dsum[2]));
        s->sum_ab += hsum_pd(_mm256_loadu_pd(dsum[3]));
        s->sum_dd += hsum_pd(_mm256_loadu_pd(dsum[4]));
    }
    s->finite_pairs += fast_pairs;

    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float block_max = 0.0f;
    for (int k = 0; k < 8; k++) if (lanes[k] > block_max) block_max = lanes[k];
    _mm256_storeu_ps(lanes, bmin);
    float b_min = INFINITY;
    for (int k = 0; k < 8; k++) if (lanes[k] < b_min) b_min = lanes[k];
    _mm256_storeu_ps(lanes, amax);
    float a_max = 0.0f;
    for (int k = 0; k < 8; k++) if (lanes[k] > a_max) a_max = lanes[k];

    // Pass 2: elements outside the tolerance, and (only if the block can hold any)
    // zeros in B under non-zeros in A, and A beyond the F16 range.
    const __m256 vatol = _mm256_set1_ps(atol), vrtol = _mm256_set1_ps(rtol);
    const __m256 vzero = _mm256_setzero_ps(), vf16max = _mm256_set1_ps(65504.0f);
    // The same pass counts |d| > 0, the histogram's first edge.
    __m256i mism = _mm256_setzero_si256(), nonzero = _mm256_setzero_si256();
    for (size_t gg = 0; gg < groups; gg++) {
        __m256 aa = _mm256_and_ps(_mm256_loadu_ps(a + gg * 8), absmask);
        __m256 thr = _mm256_fmadd_ps(vrtol, aa, vatol);
        __m256 vd = _mm256_loadu_ps(d + gg * 8);
        mism = _mm256_sub_epi32(mism, _mm256_castps_si256(_mm256_cmp_ps(vd, thr, _CMP_GT_OQ)));
        nonzero = _mm256_sub_epi32(nonzero, _mm256_castps_si256(_mm256_cmp_ps(vd, vzero, _CMP_GT_OQ)));
    }
    s->mismatched += hsum_epi32(mism);
    const int64_t above_zero = hsum_epi32(nonzero);
    if (b_min == 0.0f) {
        __m256i under = _mm256_setzero_si256();
        for (size_t gg = 0; gg < groups; gg++) {
            __m256 va = _mm256_loadu_ps(a + gg * 8), vb = _mm256_loadu_ps(b + gg * 8);
            __m256 m = _mm256_and_ps(_mm256_cmp_ps(va, vzero, _CMP_NEQ_OQ), _mm256_cmp_ps(vb, vzero, _CMP_EQ_OQ));
            under = _mm256_sub_epi32(under, _mm256_castps_si256(m));
        }
        s->underflow_to_zero += hsum_epi32(under);
    }
    if (a_max > 65504.0f) {
        __m256i beyond = _mm256_setzero_si256();
        for (size_t gg = 0; gg < groups; gg++) {
            __m256 m = _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(a + gg * 8), absmask), vf16max, _CMP_GT_OQ);
            beyond = _mm256_sub_epi32(beyond, _mm256_castps_si256(m));
        }
        s->a_beyond_f16 += hsum_epi32(beyond);
    }

    // Pass 3: the histogram, one edge at a time; edges at or above the block maximum
    // have nothing above them. Zeroed groups count nowhere (they are not fast pairs).
    int64_t counts[EDGES];
    counts[0] = above_zero;               // kEdges[0] is 0
    for (int k = 1; k < EDGES; k++) {
        counts[k] = 0;
        if (!(kEdges[k] < block_max)) continue;
        const __m256 edge = _mm256_set1_ps(kEdges[k]);
        __m256i above0 = _mm256_setzero_si256(), above1 = _mm256_setzero_si256();
        __m256i above2 = _mm256_setzero_si256(), above3 = _mm256_setzero_si256();
        size_t gg = 0;
        for (; gg + 4 <= groups; gg += 4) {
            const float *p = d + gg * 8;
            above0 = _mm256_sub_epi32(above0, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(p), edge, _CMP_GT_OQ)));
            above1 = _mm256_sub_epi32(above1, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(p + 8), edge, _CMP_GT_OQ)));
            above2 = _mm256_sub_epi32(above2, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(p + 16), edge, _CMP_GT_OQ)));
            above3 = _mm256_sub_epi32(above3, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(p + 24), edge, _CMP_GT_OQ)));
        }
        for (; gg < groups; gg++)
            above0 = _mm256_sub_epi32(above0, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(d + gg * 8), edge, _CMP_GT_OQ)));
        above0 = _mm256_add_epi32(above0, above2);
        above1 = _mm256_add_epi32(above1, above3);
        counts[k] = hsum_epi32(_mm256_add_epi32(above0, above1));
    }
    finish_block(s, counts, fast_pairs, d, groups * 8, block_max, running_max, scalar_max, scalar_index);
}

AVX2 static void block_compare_avx2_sums(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                         float running_max, ckd_block_stats *s) {
    block_compare_avx2_body(a, b, d, n, atol, rtol, running_max, 1, s);
}

AVX2 static void block_compare_avx2_counts(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                           float running_max, ckd_block_stats *s) {
    block_compare_avx2_body(a, b, d, n, atol, rtol, running_max, 0, s);
}


#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

AVX512 static inline int64_t hsum512_epi32(__m512i v) {
    return (int64_t)_mm512_reduce_add_epi32(v);
}

/// Groups of 16 elements per float accumulation run (each lane sums 32 values, as in the AVX2 path).
#define RUN16 32

// Counts are taken from the compare masks with scalar popcounts, which run beside the vector
// pipes; a masked vector add per counter competed with the arithmetic for them.
#define POPCNT16(m) ((uint32_t)__builtin_popcount((unsigned)(m)))

// The fused raw-data kernel: decode, compare and cast check in one pass over the stored bytes.

// 16 values of a raw dtype at element i, decoded exactly to binary32 lanes.
AVX512 __attribute__((always_inline)) static inline __m512 load_raw16(const void *raw, const int code, size_t i) {
    if (code == CKD_RAW_F32) return _mm512_loadu_ps((const float *)raw + i);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)raw + i));
    if (code == CKD_RAW_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

#define AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,avx512bf16")))

// x rounded to bfloat16 by vcvtneps2bf16 (ties to even), as stored halfwords. Not always_inline:
// only the kernels compiled for AVX512_BF16 call it, and only they can inline it.
AVX512BF16 static inline __m256i round_bf16_bits(__m512 x) {
    return (__m256i)_mm512_cvtneps_pbh(x);
}

// The 16 stored halfwords at element i of a 16-bit dtype.
AVX512 __attribute__((always_inline)) static inline __m256i load_bits16(const void *raw, size_t i) {
    return _mm256_loadu_si256((const __m256i *)((const uint16_t *)raw + i));
}

// x (finite lanes) rounded to a 16-bit grid, as the stored halfwords of that dtype: vcvtps2ph for
// F16, vcvtneps2bf16 for BF16 (only for lanes that are not binary32 subnormals, which that
// instruction reads as zero; values decoded from F16 or BF16 never are). The bits equal the
// stored bits of b exactly when the values are equal, except for zeros of opposite signs.
AVX512 __attribute__((always_inline)) static inline __m256i round_bits16(__m512 x, int grid) {
    if (grid == CKD_GRID_F16) return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return round_bf16_bits(x);
}

// Decodes `count` raw values from element `i` into out (scalar code, for rare groups and the tail).
static void decode_raw(const void *raw, int code, size_t i, size_t count, float *out) {
    if (code == CKD_RAW_F32) memcpy(out, (const float *)raw + i, count * sizeof(float));
    else if (code == CKD_RAW_F16) ckd_f16_to_f32((const uint16_t *)raw + i, out, count);
    else ckd_bf16_to_f32((const uint16_t *)raw + i, out, count);
}

// Elements compared one by one, from the raw data: the exact routine, plus the cast check.
static void compare_raw_scalar(const void *ra, int ta, const void *rb, int tb, float *d, size_t i, size_t count,
                               float atol, float rtol, int grid_b, int grid_a, ckd_block_stats *s, ckd_cast_counts *c,
                               float *scalar_max, int64_t *scalar_index) {
    float a[16], b[16], dd[16];
    decode_raw(ra, ta, i, count, a);
    decode_raw(rb, tb, i, count, b);
    if (grid_b != CKD_GRID_NONE || grid_a != CKD_GRID_NONE) ckd_cast_check_portable(a, b, count, grid_b, grid_a, c);
    float local_max = *scalar_max;
    int64_t local_index = -1;
    for (size_t j = 0; j < count; j++) compare_one(a, b, dd, j, atol, rtol, 1, s, &local_max, &local_index);
    for (size_t j = 0; j < count; j++) d[i + j] = dd[j];
    if (local_index >= 0) { *scalar_max = local_max; *scalar_index = (int64_t)i + local_index; }
}

// The exact-cast mode's second pass over a block of F16 A and BF16 B that was not an exact cast
// after all (see block_compare_raw_body): the reverse check, the tolerance when the loop left it
// out, and |d| as binary32. Kept out of line, away from the main loop's code.
AVX512 __attribute__((noinline)) static void redo_broken_cast(const void *ra, const void *rb, float *d, size_t groups,
                                                             const uint64_t *rare, int tolerance, float atol, float rtol,
                                                             uint32_t *reverse_same, uint32_t *mism) {
    const __m512 vatol = _mm512_set1_ps(atol), vrtol = _mm512_set1_ps(rtol);
    for (size_t gg = 0; gg < groups; gg++) {
        if (rare[gg / 64] & (1ull << (gg % 64))) continue;
        const size_t i = gg * 16;
        __m512 va = load_raw16(ra, CKD_RAW_F16, i), vb = load_raw16(rb, CKD_RAW_BF16, i);
        __m512 ad = _mm512_abs_ps(_mm512_sub_ps(vb, va));
        *reverse_same += POPCNT16(_mm512_cmp_ps_mask(va, ckd_round_finite_to_grid_avx512(vb, CKD_GRID_F16), _CMP_EQ_OQ));
        if (tolerance) *mism += POPCNT16(_mm512_cmp_ps_mask(ad, _mm512_fmadd_ps(vrtol, _mm512_abs_ps(va), vatol), _CMP_GT_OQ));
        _mm512_storeu_ps(d + i, ad);
    }
}

AVX512 __attribute__((always_inline)) static inline void block_compare_raw_body(
        const void *ra, const int ta, const void *rb, const int tb, float *d, size_t n, float atol, float rtol,
        float running_max, const int grid_b, const int grid_a, const int bf16_insn, const int expect_cast,
        ckd_block_stats *s, ckd_cast_counts *c) {
    const __m512 inf = _mm512_set1_ps(INFINITY);
    const __m512 vzero = _mm512_setzero_ps(), vf16max = _mm512_set1_ps(65504.0f);
    const __m512 vatol = _mm512_set1_ps(atol), vrtol = _mm512_set1_ps(rtol);
    // The cast check compares stored bits where a 16-bit grid can be reached exactly by one
    // instruction (see round_bits16), else values. Bits and values disagree only on zeros of
    // opposite signs, which need a zero in B (forward) or in A (reverse): those blocks are
    // corrected in the recount below.
    const int fwd_bits = grid_b == CKD_GRID_F16 || (grid_b == CKD_GRID_BF16 && ta == CKD_RAW_F16 && bf16_insn);
    // Checks that need no work per element: on the binary32 grid r(x) = x, so "b = r(a)" is
    // "b = a", which holds exactly where |d| = 0.
    const int fwd_derived = grid_b == CKD_GRID_F32, rev_derived = grid_a == CKD_GRID_F32;
    // The exact-cast mode, for F16 A against BF16 B when the caller expects B = r_BF16(A) (every
    // block of the tensor so far was an exact cast, `expect_cast`). Where every b = r_BF16(a):
    // - r_F16(b) = b for every finite BF16 value in the F16 range (a BF16 value that close to an
    //   F16 one has at most 8 significant bits at a place value of at least 2^-24), so a = r_F16(b)
    //   holds exactly where a = b (a b past the F16 range gives infinity, never a): the reverse
    //   count is the count of |d| = 0;
    // - b is zero only where a is: no underflow, no flush, no signed-zero correction;
    // - |d| is a binary16 value (see the histogram below).
    // So the loop does none of that work, and a block that turns out not to be an exact cast
    // (same < fast pairs) is taken again: reverse check, zeros in B, |d| as binary32 (and the
    // tolerance, below).
    const int cast_mode = expect_cast && ta == CKD_RAW_F16 && tb == CKD_RAW_BF16;
    // Also, |a - r_BF16(a)| is at most half a BF16 ulp, 2^-8 |a|: with rtol >= 2^-8 (BF16's default
    // is 1.6e-2) no element of an exact cast is outside the tolerance, and the loop does not look.
    const int tol_after = cast_mode && rtol >= 0x1p-8f && atol >= 0.0f;
    const int rev_bits = !cast_mode && (grid_a == CKD_GRID_F16 || (grid_a == CKD_GRID_BF16 && tb == CKD_RAW_F16 && bf16_insn));
    // Finite F16 values never pass the F16 range.
    const int track_beyond = ta != CKD_RAW_F16;
    float partial[(4096 / 16 + RUN16 - 1) / RUN16][5][16];
    size_t runs = 0;
    __m512 vmax = _mm512_setzero_ps();
    uint32_t mism = 0, nonzero = 0, same = 0, reverse_same = 0;
    // Zeros and values of A past the F16 range are rare: pass 1 keeps only min |b|, min |a| and
    // max |a|, and the blocks that hold any are counted again afterwards (underflow, flushes,
    // F16 range, signed zeros of the bit-compared cast check).
    __m512 bmin = inf, amin = inf, amax = _mm512_setzero_ps();
    const size_t groups = n / 16;
    uint64_t rare[(4096 / 16 + 63) / 64];
    memset(rare, 0, sizeof rare);
    // In the exact-cast mode |d| is kept as binary16 (see the histogram below).
    uint16_t d16[4096 + 16];
    int64_t fast_pairs = 0;
    float scalar_max = running_max;
    int64_t scalar_index = -1;
    size_t g = 0;
    while (g < groups) {
        size_t run_end = g + RUN16 < groups ? g + RUN16 : groups;
        __m512 fabs_ = _mm512_setzero_ps(), faa = _mm512_setzero_ps(), fbb = _mm512_setzero_ps();
        __m512 fab = _mm512_setzero_ps(), fdd = _mm512_setzero_ps();
        for (; g < run_end; g++) {
            size_t i = g * 16;
            __m512 va = load_raw16(ra, ta, i), vb = load_raw16(rb, tb, i);
            __m512 vd = _mm512_sub_ps(vb, va);
            __m512 ad = _mm512_abs_ps(vd);
            // Both finite and no overflowing difference; anything else goes to the exact routine.
            if (__builtin_expect(_mm512_cmp_ps_mask(ad, inf, _CMP_LT_OQ) != 0xffff, 0)) {
                rare[g / 64] |= 1ull << (g % 64);
                continue;
            }
            if (cast_mode) _mm256_storeu_si256((__m256i *)(d16 + i), _mm512_cvtps_ph(ad, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            else _mm512_storeu_ps(d + i, ad);
            fabs_ = _mm512_add_ps(fabs_, ad);
            faa = _mm512_fmadd_ps(va, va, faa);
            fbb = _mm512_fmadd_ps(vb, vb, fbb);
            fab = _mm512_fmadd_ps(va, vb, fab);
            fdd = _mm512_fmadd_ps(vd, vd, fdd);
            vmax = _mm512_max_ps(vmax, ad);
            __m512 aa = _mm512_abs_ps(va);
            if (!tol_after) mism += POPCNT16(_mm512_cmp_ps_mask(ad, _mm512_fmadd_ps(vrtol, aa, vatol), _CMP_GT_OQ));
            nonzero += POPCNT16(_mm512_cmp_ps_mask(ad, vzero, _CMP_GT_OQ));
            if (!cast_mode) bmin = _mm512_min_ps(bmin, _mm512_abs_ps(vb));
            if (track_beyond) amax = _mm512_max_ps(amax, aa);
            if (rev_bits) amin = _mm512_min_ps(amin, aa);
            // The cast check: here every value is finite, so only exact and flushed can happen
            // besides a mismatch (an overflow or a NaN makes the group rare); flushes need a zero
            // in B and are counted with the zeros below.
            if (fwd_bits)
                same += POPCNT16(_mm256_cmpeq_epi16_mask(round_bits16(va, grid_b), load_bits16(rb, i)));
            else if (grid_b != CKD_GRID_NONE && !fwd_derived)
                same += POPCNT16(_mm512_cmp_ps_mask(vb, ckd_round_finite_to_grid_avx512(va, grid_b), _CMP_EQ_OQ));
            if (rev_bits)
                reverse_same += POPCNT16(_mm256_cmpeq_epi16_mask(round_bits16(vb, grid_a), load_bits16(ra, i)));
            else if (grid_a != CKD_GRID_NONE && !rev_derived && !cast_mode)
                reverse_same += POPCNT16(_mm512_cmp_ps_mask(va, ckd_round_finite_to_grid_avx512(vb, grid_a), _CMP_EQ_OQ));
            fast_pairs += 16;
        }
        _mm512_storeu_ps(partial[runs][0], fabs_);
        _mm512_storeu_ps(partial[runs][1], faa);
        _mm512_storeu_ps(partial[runs][2], fbb);
        _mm512_storeu_ps(partial[runs][3], fab);
        _mm512_storeu_ps(partial[runs][4], fdd);
        runs++;
    }
    // Float partials to double in a fixed order, lanes 0-7 then 8-15, as the AVX2 path adds its runs.
    double dsum[5][4];
    memset(dsum, 0, sizeof dsum);
    for (size_t r = 0; r < runs; r++)
        for (int q = 0; q < 5; q++) {
            widen_into(dsum[q], _mm256_loadu_ps(partial[r][q]));
            widen_into(dsum[q], _mm256_loadu_ps(partial[r][q] + 8));
        }
    for (size_t w = 0; w < sizeof rare / sizeof rare[0]; w++) {
        for (uint64_t bits = rare[w]; bits != 0; bits &= bits - 1) {
            size_t i = (w * 64 + (size_t)__builtin_ctzll(bits)) * 16;
            compare_raw_scalar(ra, ta, rb, tb, d, i, 16, atol, rtol, grid_b, grid_a, s, c, &scalar_max, &scalar_index);
            memset(d + i, 0, 16 * sizeof(float));   // the histogram pass skips the group: it was counted in full
            if (cast_mode) memset(d16 + i, 0, 16 * sizeof(uint16_t));
        }
    }
    if (groups * 16 < n)
        compare_raw_scalar(ra, ta, rb, tb, d, groups * 16, n - groups * 16, atol, rtol, grid_b, grid_a, s, c,
                           &scalar_max, &scalar_index);

    s->sum_abs += hsum_pd(_mm256_loadu_pd(dsum[0]));
    s->sum_aa += hsum_pd(_mm256_loadu_pd(dsum[1]));
    s->sum_bb += hsum_pd(_mm256_loadu_pd(dsum[2]));
    s->sum_ab += hsum_pd(_mm256_loadu_pd(dsum[3]));
    s->sum_dd += hsum_pd(_mm256_loadu_pd(dsum[4]));
    s->finite_pairs += fast_pairs;
    // The rare counts, from the groups of pass 1 (rare groups were counted in full above).
    int64_t under = 0, beyond = 0, flushed = 0;
    // In the exact-cast mode zeros in B are not looked for in the loop; every group is counted
    // again if the block is not an exact cast after all.
    const int any_b_zero = cast_mode ? same != (uint32_t)fast_pairs : _mm512_reduce_min_ps(bmin) == 0.0f;
    const int any_a_zero = rev_bits && _mm512_reduce_min_ps(amin) == 0.0f;
    const int any_beyond = track_beyond && _mm512_reduce_max_ps(amax) > 65504.0f;
    if (any_b_zero || any_a_zero || any_beyond) {
        for (size_t gg = 0; gg < groups; gg++) {
            if (rare[gg / 64] & (1ull << (gg % 64))) continue;
            const size_t i = gg * 16;
            __m512 va = load_raw16(ra, ta, i), vb = load_raw16(rb, tb, i);
            __m512 aa = _mm512_abs_ps(va);
            if (any_b_zero) {
                const __mmask16 b_zero = _mm512_cmp_ps_mask(vb, vzero, _CMP_EQ_OQ);
                if (b_zero && grid_b != CKD_GRID_NONE) {
                    const __mmask16 eq = _mm512_cmp_ps_mask(vb, ckd_round_finite_to_grid_avx512(va, grid_b), _CMP_EQ_OQ);
                    // A zero in B under a zero of the other sign in r(a): equal values, unequal bits.
                    if (fwd_bits)
                        same += POPCNT16(b_zero & eq & (__mmask16)~_mm256_cmpeq_epi16_mask(round_bits16(va, grid_b), load_bits16(rb, i)));
                    const __mmask16 flush = b_zero & _mm512_cmp_ps_mask(aa, vzero, _CMP_GT_OQ);
                    flushed += POPCNT16(flush & (__mmask16)~eq);
                }
                under += POPCNT16(b_zero & _mm512_cmp_ps_mask(aa, vzero, _CMP_GT_OQ));
            }
            if (any_a_zero) {
                const __mmask16 a_zero = _mm512_cmp_ps_mask(va, vzero, _CMP_EQ_OQ);
                if (a_zero) {
                    const __mmask16 req = _mm512_cmp_ps_mask(va, ckd_round_finite_to_grid_avx512(vb, grid_a), _CMP_EQ_OQ);
                    reverse_same += POPCNT16(a_zero & req & (__mmask16)~_mm256_cmpeq_epi16_mask(round_bits16(vb, grid_a), load_bits16(ra, i)));
                }
            }
            if (any_beyond) beyond += POPCNT16(_mm512_cmp_ps_mask(aa, vf16max, _CMP_GT_OQ));
        }
    }
    s->underflow_to_zero += under;
    s->a_beyond_f16 += beyond;
    // In the exact-cast mode, a block that was not an exact cast after all: what the loop left out
    // (the reverse check, the tolerance, |d| as binary32), in one more pass over its groups.
    const int cast_broken = cast_mode && same != (uint32_t)fast_pairs;
    if (cast_broken) redo_broken_cast(ra, rb, d, groups, rare, tol_after, atol, rtol, &reverse_same, &mism);
    s->mismatched += mism;
    const uint32_t equal = (uint32_t)fast_pairs - nonzero;   // fast pairs with |d| = 0
    if (fwd_derived) same = equal;
    if (rev_derived || (cast_mode && !cast_broken)) reverse_same = equal;
    if (grid_b != CKD_GRID_NONE) {
        int64_t e = same, f = flushed;
        c->exact += e;
        c->flushed += f;
        c->mismatch += fast_pairs - e - f;
    }
    if (grid_a != CKD_GRID_NONE) c->reverse_mismatch += fast_pairs - (int64_t)reverse_same;
    const float block_max = _mm512_reduce_max_ps(vmax);

    // The histogram: the number of |d| above each edge below the block maximum (edges at or above
    // it have nothing above them), two edges per pass over d, counted with integer lanes:
    // (edge - bits) is negative exactly when |d| > edge, and its sign shifted in is -1.
    // Zeroed groups count nowhere (they are not fast pairs).
    int64_t counts[EDGES];
    counts[0] = nonzero;
    int top = 1;
    while (top < EDGES && kEdges[top] < block_max) top++;
    for (int k = top; k < EDGES; k++) counts[k] = 0;
    // Where every b = r_BF16(a) for F16 a, |d| = |a - r_BF16(a)| is a binary16 value: a normal a
    // is m * 2^(e-10) with 11 significant bits, r keeps 8, so |d| = k * 2^(e-10) with k <= 4 and
    // e - 10 >= -24 (and a subnormal a gives multiples of 2^-24), and vcvtps2ph kept it exactly.
    // The histogram then counts 32 halfwords per vector. A block that was not an exact cast after
    // all had its |d| taken again as binary32 above.
    const int half_d = cast_mode && !cast_broken;
    int k = 1;
    if (half_d) {
        memset(d16 + groups * 16, 0, 16 * sizeof(uint16_t));   // a zero counts nowhere
        const size_t vectors = (groups + 1) / 2;
        for (; k < top; k++) {
            const __m512i e0 = _mm512_set1_epi16(kEdgeBits16[k]);
            __m512i c0 = _mm512_setzero_si512();
            for (size_t v = 0; v < vectors; v++)
                c0 = _mm512_sub_epi16(c0, _mm512_srai_epi16(_mm512_sub_epi16(e0, _mm512_loadu_si512(d16 + 32 * v)), 15));
            // 16-bit lanes hold at most 4096 / 32 = 128; summed in pairs into 32-bit lanes.
            counts[k] = hsum512_epi32(_mm512_madd_epi16(c0, _mm512_set1_epi16(1)));
        }
        if (block_max > running_max) ckd_f16_to_f32(d16, d, groups * 16);   // for the index of the maximum
    }
    for (; k + 1 < top; k += 2) {
        const __m512i e0 = _mm512_set1_epi32(kEdgeBits[k]), e1 = _mm512_set1_epi32(kEdgeBits[k + 1]);
        __m512i c0 = _mm512_setzero_si512(), c1 = _mm512_setzero_si512();
        for (size_t gg = 0; gg < groups; gg++) {
            const __m512i v = _mm512_castps_si512(_mm512_loadu_ps(d + gg * 16));
            c0 = _mm512_sub_epi32(c0, _mm512_srai_epi32(_mm512_sub_epi32(e0, v), 31));
            c1 = _mm512_sub_epi32(c1, _mm512_srai_epi32(_mm512_sub_epi32(e1, v), 31));
        }
        counts[k] = hsum512_epi32(c0);
        counts[k + 1] = hsum512_epi32(c1);
    }
    for (; k < top; k++) {
        const __m512i e0 = _mm512_set1_epi32(kEdgeBits[k]);
        __m512i c0 = _mm512_setzero_si512();
        for (size_t gg = 0; gg < groups; gg++)
            c0 = _mm512_sub_epi32(c0, _mm512_srai_epi32(_mm512_sub_epi32(e0, _mm512_castps_si512(_mm512_loadu_ps(d + gg * 16))), 31));
        counts[k] = hsum512_epi32(c0);
    }
    finish_block(s, counts, fast_pairs, d, groups * 16, block_max, running_max, scalar_max, scalar_index);
}

static int raw_grid(int code) {
    return code == CKD_RAW_F32 ? CKD_GRID_F32 : code == CKD_RAW_F16 ? CKD_GRID_F16 : CKD_GRID_BF16;
}

#define RAW_CASE_AT(TARGET, NAME, TA, TB, BF16_INSN, EXPECT_CAST) \
    TARGET static void NAME(const void *ra, const void *rb, float *d, size_t n, float atol, \
                            float rtol, float running_max, ckd_block_stats *s, ckd_cast_counts *c) { \
        const int gb = CKD_RAW_##TA == CKD_RAW_##TB ? CKD_GRID_NONE : raw_grid(CKD_RAW_##TB); \
        const int ga = CKD_RAW_##TA == CKD_RAW_##TB ? CKD_GRID_NONE : raw_grid(CKD_RAW_##TA); \
        block_compare_raw_body(ra, CKD_RAW_##TA, rb, CKD_RAW_##TB, d, n, atol, rtol, running_max, gb, ga, BF16_INSN, \
                               EXPECT_CAST, s, c); \
    }
#define RAW_CASE(TA, TB) RAW_CASE_AT(AVX512, block_compare_raw_##TA##_##TB, TA, TB, 0, 0)
RAW_CASE(F32, F32) RAW_CASE(F32, F16) RAW_CASE(F32, BF16)
RAW_CASE(F16, F32) RAW_CASE(F16, F16) RAW_CASE(F16, BF16)
RAW_CASE(BF16, F32) RAW_CASE(BF16, F16) RAW_CASE(BF16, BF16)
// F16 against BF16 with vcvtneps2bf16 (AVX512_BF16) for the BF16 side of the cast check, and
// F16 against BF16 expecting an exact cast (the reverse count derived).
RAW_CASE_AT(AVX512BF16, block_compare_raw_F16_BF16_insn, F16, BF16, 1, 0)
RAW_CASE_AT(AVX512BF16, block_compare_raw_BF16_F16_insn, BF16, F16, 1, 0)
RAW_CASE_AT(AVX512, block_compare_raw_F16_BF16_derived, F16, BF16, 0, 1)
RAW_CASE_AT(AVX512BF16, block_compare_raw_F16_BF16_insn_derived, F16, BF16, 1, 1)

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    }
    return cached;
}
#endif

int ckd_simd_level(void) {
#ifdef CKD_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) cached = 2;
        else cached = has_avx2();
    }
    return cached;
#else
    return 0;
#endif
}

int ckd_avx512bf16_available(void) {
#ifdef CKD_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = ckd_simd_level() >= 2 && __builtin_cpu_supports("avx512bf16") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

void ckd_block_compare_at(int level, float *a, float *b, float *d, size_t n, float atol, float rtol,
                          float running_max, int with_sums, ckd_block_stats *s) {
#ifdef CKD_X86
    if (level > ckd_simd_level()) level = ckd_simd_level();
    if (level >= 2 && with_sums && n <= 4096 && ckd_f16c_available()) {
        // Decoded floats are raw F32 data to the fused kernel (no cast check between equal dtypes).
        ckd_cast_counts unused = {0};
        block_compare_raw_F32_F32(a, b, d, n, atol, rtol, running_max, s, &unused);
        return;
    }
    if (level >= 1 && n <= 4096) {
        if (with_sums) block_compare_avx2_sums(a, b, d, n, atol, rtol, running_max, s);
        else block_compare_avx2_counts(a, b, d, n, atol, rtol, running_max, s);
        return;
    }
#endif
    ckd_block_compare_portable(a, b, d, n, atol, rtol, running_max, with_sums, s);
}

int ckd_block_compare_raw_using(int flags, const void *ra, int ta, const void *rb, int tb, float *d, size_t n,
                                float atol, float rtol, float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
#ifdef CKD_X86
    if (ckd_simd_level() < 2 || !ckd_f16c_available() || n > 4096) return 0;
    typedef void (*raw_fn)(const void *, const void *, float *, size_t, float, float, float, ckd_block_stats *, ckd_cast_counts *);
    static const raw_fn table[3][3] = {
        {block_compare_raw_F32_F32, block_compare_raw_F32_F16, block_compare_raw_F32_BF16},
        {block_compare_raw_F16_F32, block_compare_raw_F16_F16, block_compare_raw_F16_BF16},
        {block_compare_raw_BF16_F32, block_compare_raw_BF16_F16, block_compare_raw_BF16_BF16},
    };
    if (ta < CKD_RAW_F32 || ta > CKD_RAW_BF16 || tb < CKD_RAW_F32 || tb > CKD_RAW_BF16) return 0;
    raw_fn fn = table[ta - 1][tb - 1];
    const int insn = (flags & CKD_RAW_BF16_INSTRUCTION) && ckd_avx512bf16_available();
    const int derive = (flags & CKD_RAW_EXACT_CAST_SO_FAR) != 0;
    if (ta == CKD_RAW_F16 && tb == CKD_RAW_BF16) {
        fn = insn ? (derive ? block_compare_raw_F16_BF16_insn_derived : block_compare_raw_F16_BF16_insn)
                  : (derive ? block_compare_raw_F16_BF16_derived : block_compare_raw_F16_BF16);
    }
    if (ta == CKD_RAW_BF16 && tb == CKD_RAW_F16 && insn) fn = block_compare_raw_BF16_F16_insn;
    fn(ra, rb, d, n, atol, rtol, running_max, s, c);
    return 1;
#else
    (void)flags; (void)ra; (void)ta; (void)rb; (void)tb; (void)d; (void)n; (void)atol; (void)rtol;
    (void)running_max; (void)s; (void)c;
    return 0;
#endif
}

int ckd_block_compare_raw(const void *ra, int ta, const void *rb, int tb, float *d, size_t n, float atol, float rtol,
                          float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
    return ckd_block_compare_raw_using(CKD_RAW_BF16_INSTRUCTION, ra, ta, rb, tb, d, n, atol, rtol, running_max, s, c);
}

void ckd_block_compare(float *a, float *b, float *d, size_t n, float atol, float rtol,
                       float running_max, int with_sums, ckd_block_stats *s) {
    ckd_block_compare_at(ckd_simd_level(), a, b, d, n, atol, rtol, running_max, with_sums, s);
}

static int64_t count_nonfinite_bits_portable(const unsigned char *p, size_t count, int element_bits,
                                             uint32_t exponent_mask) {
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

#ifdef CKD_X86
// 32 bytes at a time: lanes whose exponent field is all ones give -1, summed per lane.
AVX2 static int64_t count_nonfinite_bits_avx2(const unsigned char *p, size_t count, int element_bits,
                                              uint32_t exponent_mask) {
    size_t per = 32 / (size_t)(element_bits / 8), vectors = count / per;
    __m256i m = element_bits == 16 ? _mm256_set1_epi16((short)exponent_mask) : _mm256_set1_epi32((int)exponent_mask);
    __m256i acc = _mm256_setzero_si256();
    for (size_t v = 0; v < vectors; v++) {
        __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + 32 * v)), m);
        __m256i hit = element_bits == 16 ? _mm256_cmpeq_epi16(x, m) : _mm256_cmpeq_epi32(x, m);
        // 16-bit hits (-1 each) are summed in pairs into 32-bit lanes, so counters cannot overflow
        if (element_bits == 16) hit = _mm256_madd_epi16(hit, _mm256_set1_epi16(1));
        acc = _mm256_sub_epi32(acc, hit);
    }
    int64_t hits = hsum_epi32(acc);
    return hits + count_nonfinite_bits_portable(p + 32 * vectors, count - vectors * per, element_bits, exponent_mask);
}
#endif

int64_t ckd_count_nonfinite_bits(const void *data, size_t count, int element_bits, uint32_t exponent_mask) {
    const unsigned char *p = (const unsigned char *)data;
#ifdef CKD_X86
    // The lane counters hold 2^31 hits; callers pass chunks far below that.
    if ((element_bits == 16 || element_bits == 32) && has_avx2() && count < (1u << 30))
        return count_nonfinite_bits_avx2(p, count, element_bits, exponent_mask);
#endif
    return count_nonfinite_bits_portable(p, count, element_bits, exponent_mask);
}
