// The block kernel at every instruction-set level: vkernel_body.h, written once with clang's
// vector extensions, compiled here once per level (function target attributes) and chosen at run
// time. All levels give bit-identical results (see vkernel_body.h).
#include "CKDiffKernels.h"
#include "CKDiffShims.h"
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// Products and sums are rounded one operation at a time on every level: no a * b + c contracted
// into a fused multiply-add where the target happens to have one.
#pragma clang fp contract(off)
// The helpers take 512-bit vectors as arguments; they are always inlined, so no call crosses an ABI.
#pragma clang diagnostic ignored "-Wpsabi"

#define CKD_VK_LANES 16
/// Groups of CKD_VK_LANES elements whose float lane sums make one run (512 elements).
#define CKD_VK_RUN 32
/// The largest block one kernel call takes; longer inputs are cut into blocks of this size.
#define CKD_VK_BLOCK 4096
#define CKD_VK_EDGES (CKD_HISTOGRAM_BUCKETS - 1)

typedef float f32x16 __attribute__((ext_vector_type(16)));
typedef double f64x16 __attribute__((ext_vector_type(16)));
typedef int32_t i32x16 __attribute__((ext_vector_type(16)));
typedef uint32_t u32x16 __attribute__((ext_vector_type(16)));
typedef uint16_t u16x16 __attribute__((ext_vector_type(16)));
typedef _Float16 h16x16 __attribute__((ext_vector_type(16)));
typedef int32_t i32x8 __attribute__((ext_vector_type(8)));
typedef float f32x8 __attribute__((ext_vector_type(8)));

static const i32x16 kLaneIndex = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// The histogram's decimal edges as the binary32 values below which a float is not above them: for
// a float x, x > e (in double) exactly when x > e_f, e_f being e rounded down to a float.
static float kVkEdges[CKD_VK_EDGES];
// The histogram's bucket edges: the one definition (Swift reads them through ckd_histogram_edge).
static const double kDecimalEdges[CKD_VK_EDGES] = {0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

double ckd_histogram_edge(int index) {
    return index >= 0 && index < CKD_VK_EDGES ? kDecimalEdges[index] : 0.0;
}

__attribute__((constructor)) static void vk_init_edges(void) {
    for (int k = 0; k < CKD_VK_EDGES; k++) {
        float f = (float)kDecimalEdges[k];
        if ((double)f > kDecimalEdges[k]) f = nextafterf(f, 0.0f);
        kVkEdges[k] = f;
    }
}

/// What one kernel call reads and writes.
typedef struct {
    /// The raw little-endian data of A and B (decoded binary32 values are raw F32).
    const void *a, *b;
    /// Receives |b - a| for finite pairs and 0 for the others (unused by the cast check alone).
    float *d;
    /// Elements, at most CKD_VK_BLOCK.
    size_t n;
    float atol, rtol, running_max;
    /// Counts, sums and maximum are added here (may be NULL for the cast check alone).
    ckd_block_stats *stats;
    /// Cast counts are added here (may be NULL where no grid is checked).
    ckd_cast_counts *counts;
} ckd_vk_args;

typedef void (*ckd_vk_fn)(const ckd_vk_args *);

/// One level's instantiations.
typedef struct {
    /// [A's CKD_RAW_* - 1][B's CKD_RAW_* - 1]: compare with sums, cast check where the dtypes differ.
    ckd_vk_fn raw[3][3];
    /// Decoded values compared without the four dot products.
    ckd_vk_fn counts_only;
    /// [grid_b][grid_a]: the cast check alone on decoded values.
    ckd_vk_fn cast[4][4];
} ckd_vk_table;

/// The accumulators of one block. Counters and extremes fold the two halves of a group into 8
/// lanes (exact either way), which leaves registers to the 16-lane sums.
typedef struct {
    i32x8 c_nonfinite, c_mism, c_anan, c_ainf, c_bnan, c_binf, c_new, c_under, c_beyond;
    i32x8 c_eq, c_over, c_flush, c_nan, c_req;
    f32x8 amax, bmin;
    f32x16 r_abs, r_aa, r_bb, r_ab, r_dd;
    f64x16 d_abs, d_aa, d_bb, d_ab, d_dd;
} vk_acc;

static inline int vk_raw_grid(int code) {
    return code == CKD_RAW_F32 ? CKD_GRID_F32 : code == CKD_RAW_F16 ? CKD_GRID_F16 : CKD_GRID_BF16;
}

// ---- The levels ----

#define LVL(name) name##_scalar
#define LVL_TARGET
#define LVL_HW_F16 0
#include "vkernel_body.h"
#undef LVL
#undef LVL_TARGET
#undef LVL_HW_F16

#if defined(__x86_64__)
#define CKD_VK_X86 1
#define LVL(name) name##_avx2
#define LVL_TARGET __attribute__((target("avx2,fma,f16c")))
#define LVL_HW_F16 1
#include "vkernel_body.h"
#undef LVL
#undef LVL_TARGET
#undef LVL_HW_F16

#define LVL(name) name##_avx512
#define LVL_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#define LVL_HW_F16 1
#include "vkernel_body.h"
#undef LVL
#undef LVL_TARGET
#undef LVL_HW_F16
#endif

#if defined(__aarch64__)
#define CKD_VK_ARM 1
// AdvSIMD and the binary16 conversions are part of every AArch64 CPU.
#define LVL(name) name##_neon
#define LVL_TARGET
#define LVL_HW_F16 1
#include "vkernel_body.h"
#undef LVL
#undef LVL_TARGET
#undef LVL_HW_F16
#endif

// ---- Levels and dispatch ----

static int level_supported(int level) {
    switch (level) {
    case CKD_SIMD_SCALAR: return 1;
#ifdef CKD_VK_X86
    case CKD_SIMD_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case CKD_SIMD_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#endif
#ifdef CKD_VK_ARM
    case CKD_SIMD_NEON: return 1;
#endif
    default: return 0;
    }
}

int ckd_simd_level_available(int level) {
    static int cached[4] = {-1, -1, -1, -1};
    if (level < 0 || level > 3) return 0;
    if (cached[level] < 0) cached[level] = level_supported(level);
    return cached[level];
}

int ckd_simd_best_level(void) {
    if (ckd_simd_level_available(CKD_SIMD_AVX512)) return CKD_SIMD_AVX512;
    if (ckd_simd_level_available(CKD_SIMD_AVX2)) return CKD_SIMD_AVX2;
    if (ckd_simd_level_available(CKD_SIMD_NEON)) return CKD_SIMD_NEON;
    return CKD_SIMD_SCALAR;
}

// -2: not decided yet (CKDIFF_SIMD is read on first use); -1: the best level; else a CKD_SIMD_*.
static _Atomic int g_forced_level = -2;

int ckd_simd_set_level(int level) {
    if (level < 0) { atomic_store(&g_forced_level, -1); return 0; }
    if (!ckd_simd_level_available(level)) return -1;
    atomic_store(&g_forced_level, level);
    return 0;
}

int ckd_simd_level_named(const char *name) {
    static const char *const names[] = {"scalar", "avx2", "avx512", "neon"};
    if (name == NULL) return -1;
    for (int level = 0; level < 4; level++)
        if (strcmp(name, names[level]) == 0) return level;
    return -1;
}

int ckd_simd_level(void) {
    int forced = atomic_load_explicit(&g_forced_level, memory_order_relaxed);
    if (forced == -2) {
        // CKDIFF_SIMD, when it names a level this CPU runs; anything else is left to the
        // program to refuse (the ckdiff executable does, with exit status 2).
        const int named = ckd_simd_level_named(getenv("CKDIFF_SIMD"));
        const int chosen = named >= 0 && ckd_simd_level_available(named) ? named : -1;
        int expected = -2;
        atomic_compare_exchange_strong(&g_forced_level, &expected, chosen);
        forced = atomic_load(&g_forced_level);
    }
    return forced >= 0 ? forced : ckd_simd_best_level();
}

static const ckd_vk_table *table_for(int level) {
    if (!ckd_simd_level_available(level)) level = CKD_SIMD_SCALAR;
    switch (level) {
#ifdef CKD_VK_X86
    case CKD_SIMD_AVX512: return &table_avx512;
    case CKD_SIMD_AVX2: return &table_avx2;
#endif
#ifdef CKD_VK_ARM
    case CKD_SIMD_NEON: return &table_neon;
#endif
    default: return &table_scalar;
    }
}

// Runs fn block by block (CKD_VK_BLOCK elements) and folds each block's results into s: counts and
// sums add in block order, and a block's maximum that beats the one so far is kept with its index
// in the whole input.
static void run_blocks(ckd_vk_fn fn, const void *a, size_t size_a, const void *b, size_t size_b, float *d, size_t n,
                       float atol, float rtol, float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
    if (s) s->max_index = -1;
    float best = running_max;
    for (size_t start = 0; start < n || (n == 0 && start == 0); start += CKD_VK_BLOCK) {
        const size_t m = n - start < CKD_VK_BLOCK ? n - start : CKD_VK_BLOCK;
        ckd_block_stats bs;
        memset(&bs, 0, sizeof bs);
        const ckd_vk_args k = {
            .a = (const unsigned char *)a + start * size_a, .b = (const unsigned char *)b + start * size_b,
            .d = d ? d + start : NULL, .n = m, .atol = atol, .rtol = rtol, .running_max = best,
            .stats = s ? &bs : NULL, .counts = c,
        };
        // (fn may read back bs, which holds this block alone.)
        fn(&k);
        if (s) {
            s->sum_abs += bs.sum_abs;
            s->sum_aa += bs.sum_aa;
            s->sum_bb += bs.sum_bb;
            s->sum_ab += bs.sum_ab;
            s->sum_dd += bs.sum_dd;
            s->finite_pairs += bs.finite_pairs;
            s->mismatched += bs.mismatched;
            s->a_nan += bs.a_nan;
            s->a_inf += bs.a_inf;
            s->b_nan += bs.b_nan;
            s->b_inf += bs.b_inf;
            s->new_nonfinite += bs.new_nonfinite;
            s->underflow_to_zero += bs.underflow_to_zero;
            s->a_beyond_f16 += bs.a_beyond_f16;
            for (int k2 = 0; k2 < CKD_HISTOGRAM_BUCKETS; k2++) s->histogram[k2] += bs.histogram[k2];
            if (bs.max_index >= 0) {
                best = bs.max_abs;
                s->max_abs = bs.max_abs;
                s->max_index = (int64_t)start + bs.max_index;
            }
        }
        if (n == 0) break;
    }
}

void ckd_block_compare_at(int level, float *a, float *b, float *d, size_t n, float atol, float rtol,
                          float running_max, int with_sums, ckd_block_stats *s) {
    const ckd_vk_table *t = table_for(level);
    const int64_t before = s->finite_pairs;
    run_blocks(with_sums ? t->raw[0][0] : t->counts_only, a, 4, b, 4, d, n, atol, rtol, running_max, s, NULL);
    // Without sums the caller takes the dot products over a and b: the pairs that are not both
    // finite are zeroed there (d already is).
    if (!with_sums && s->finite_pairs - before != (int64_t)n) {
        for (size_t i = 0; i < n; i++) {
            if (!(isfinite(a[i]) && isfinite(b[i]))) { a[i] = 0.0f; b[i] = 0.0f; }
        }
    }
}

void ckd_block_compare(float *a, float *b, float *d, size_t n, float atol, float rtol,
                       float running_max, int with_sums, ckd_block_stats *s) {
    ckd_block_compare_at(ckd_simd_level(), a, b, d, n, atol, rtol, running_max, with_sums, s);
}

void ckd_block_compare_portable(float *a, float *b, float *d, size_t n, float atol, float rtol,
                                float running_max, int with_sums, ckd_block_stats *s) {
    ckd_block_compare_at(CKD_SIMD_SCALAR, a, b, d, n, atol, rtol, running_max, with_sums, s);
}

static int valid_grid(int grid) { return grid >= CKD_GRID_NONE && grid <= CKD_GRID_BF16; }

void ckd_cast_check_at(int level, const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    if (!valid_grid(grid_b) || !valid_grid(grid_a)) return;
    run_blocks(table_for(level)->cast[grid_b][grid_a], a, 4, b, 4, NULL, n, 0, 0, 0, NULL, c);
}

void ckd_cast_check(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    ckd_cast_check_at(ckd_simd_level(), a, b, n, grid_b, grid_a, c);
}

void ckd_cast_check_portable(const float *a, const float *b, size_t n, int grid_b, int grid_a, ckd_cast_counts *c) {
    ckd_cast_check_at(CKD_SIMD_SCALAR, a, b, n, grid_b, grid_a, c);
}

int ckd_block_compare_raw_at(int level, const void *ra, int ta, const void *rb, int tb, float *d, size_t n,
                             float atol, float rtol, float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
    if (ta < CKD_RAW_F32 || ta > CKD_RAW_BF16 || tb < CKD_RAW_F32 || tb > CKD_RAW_BF16) return 0;
    const size_t size_a = ta == CKD_RAW_F32 ? 4 : 2, size_b = tb == CKD_RAW_F32 ? 4 : 2;
    run_blocks(table_for(level)->raw[ta - 1][tb - 1], ra, size_a, rb, size_b, d, n, atol, rtol, running_max, s, c);
    return 1;
}

int ckd_block_compare_raw_using(int flags, const void *ra, int ta, const void *rb, int tb, float *d, size_t n,
                                float atol, float rtol, float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
    (void)flags;
    return ckd_block_compare_raw_at(ckd_simd_level(), ra, ta, rb, tb, d, n, atol, rtol, running_max, s, c);
}

int ckd_block_compare_raw(const void *ra, int ta, const void *rb, int tb, float *d, size_t n, float atol, float rtol,
                          float running_max, ckd_block_stats *s, ckd_cast_counts *c) {
    return ckd_block_compare_raw_at(ckd_simd_level(), ra, ta, rb, tb, d, n, atol, rtol, running_max, s, c);
}

int ckd_avx512bf16_available(void) {
#ifdef CKD_VK_X86
    __builtin_cpu_init();
    return ckd_simd_level_available(CKD_SIMD_AVX512) && __builtin_cpu_supports("avx512bf16") ? 1 : 0;
#else
    return 0;
#endif
}
