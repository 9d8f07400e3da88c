// The block kernel, written once in clang's portable vector form and included by vkernel.c once per
// instruction-set level. Before each inclusion vkernel.c defines:
//   LVL(name)     the function name with the level's suffix
//   LVL_TARGET    the level's function attribute (__attribute__((target(...))) or nothing)
//   LVL_HW_F16    1 where the level converts binary16 in hardware (F16C, AArch64 FCVT), else 0
//
// Every operation below is lane-wise IEEE binary32 arithmetic (no fused multiply-add: vkernel.c
// switches contraction off), and every float sum is taken in the one order this file spells out,
// so each level returns bit-identical results for the same input.

#define fabs_v LVL(fabs_v)
#define select_v LVL(select_v)
#define round_bf16 LVL(round_bf16)
#define round_f16_arith LVL(round_f16_arith)
#define decode_f16_arith LVL(decode_f16_arith)
#define reduce_i LVL(reduce_i)
#define fold LVL(fold)
#define fold_max LVL(fold_max)
#define fold_min LVL(fold_min)
#define reduce_d LVL(reduce_d)
#include "vkernel_ops.h"

// x rounded to binary16 (to nearest, ties to even; ±Inf past 65504; NaN stays NaN) and widened back.
LVL_TARGET static inline __attribute__((always_inline)) f32x16 LVL(round_f16)(f32x16 x) {
#if LVL_HW_F16
    return __builtin_convertvector(__builtin_convertvector(x, h16x16), f32x16);
#else
    return round_f16_arith(x);
#endif
}

// 16 values of a raw dtype from p, decoded exactly to binary32.
LVL_TARGET static inline __attribute__((always_inline)) f32x16 LVL(load)(const unsigned char *p, const int code) {
    if (code == CKD_RAW_F32) { f32x16 v; memcpy(&v, p, sizeof v); return v; }
    u16x16 h;
    memcpy(&h, p, sizeof h);
    if (code == CKD_RAW_BF16) return (f32x16)(__builtin_convertvector(h, u32x16) << 16);
#if LVL_HW_F16
    return __builtin_convertvector((h16x16)h, f32x16);
#else
    return decode_f16_arith(h);
#endif
}

// x rounded to a value grid (CKD_GRID_F32 and CKD_GRID_NONE: x itself).
LVL_TARGET static inline __attribute__((always_inline)) f32x16 LVL(round_grid)(f32x16 x, const int grid) {
    if (grid == CKD_GRID_F16) return LVL(round_f16)(x);
    if (grid == CKD_GRID_BF16) return round_bf16(x);
    return x;
}

// One group of CKD_VK_LANES elements into the accumulators; `valid` masks the lanes that exist.
// The counts that need a non-finite value (NaN, infinities, new non-finite values, the cast
// check's overflow and NaN) are taken only in groups that hold one; those that need a zero in B
// (underflow to zero, flushes) or |a| > 65504 are left to LVL(recount), which runs only when the
// block's smallest |b| is 0 or its largest |a| is above 65504.
LVL_TARGET static inline __attribute__((always_inline)) void LVL(group)(
        vk_acc *acc, const unsigned char *pa, const unsigned char *pb, float *dst, const i32x16 valid,
        const int ta, const int tb, const int grid_b, const int grid_a, const int compare, const int with_sums,
        const f32x16 vatol, const f32x16 vrtol) {
    const f32x16 vinf = (f32x16)INFINITY, vzero = (f32x16)0.0f;
    const f32x16 va = LVL(load)(pa, ta), vb = LVL(load)(pb, tb);
    const f32x16 aa = fabs_v(va), ab_ = fabs_v(vb);
    const i32x16 a_fin = aa < vinf, b_fin = ab_ < vinf;
    const i32x16 fin = a_fin & b_fin & valid;
    // Whether a lane that exists holds a NaN or an infinity.
    const int rare = __builtin_reduce_and(fin | ~valid) != -1;
    const i32x16 a_nan = va != va, b_nan = vb != vb;
    if (grid_b != CKD_GRID_NONE) {
        const f32x16 t = LVL(round_grid)(va, grid_b);
        i32x16 eq = (vb == t) & valid;
        if (rare) {
            eq |= b_nan & (t != t) & valid;
            acc->c_over += fold(eq & a_fin & (ab_ == vinf));
            acc->c_nan += fold(~eq & valid & b_nan & ~a_nan);
        }
        acc->c_eq += fold(eq);
    }
    if (grid_a != CKD_GRID_NONE) {
        const f32x16 r = LVL(round_grid)(vb, grid_a);
        i32x16 req = va == r;
        if (rare) req |= a_nan & (r != r);
        acc->c_req += fold(req & valid);
    }
    // For LVL(recount): |a| and |b| of the lanes that exist (NaN lanes leave them as they are).
    // (A binary16 A is never beyond 65504: no need to look.)
    if (compare && ta != CKD_RAW_F16) {
        const f32x8 gmax = fold_max(select_v(valid, aa, vzero));
        acc->amax = gmax > acc->amax ? gmax : acc->amax;
    }
    const f32x8 gmin = fold_min(select_v(valid, ab_, vinf));
    acc->bmin = gmin < acc->bmin ? gmin : acc->bmin;
    if (!compare) return;
    f32x16 xa = va, xb = vb;
    if (rare) {
        acc->c_nonfinite += fold(~fin & valid);
        acc->c_anan += fold(a_nan & valid);
        acc->c_ainf += fold(~a_nan & ~a_fin & valid);
        acc->c_bnan += fold(b_nan & valid);
        acc->c_binf += fold(~b_nan & ~b_fin & valid);
        acc->c_new += fold(a_fin & ~b_fin & valid);
        // A pair not both finite is outside tolerance unless both are the same infinity or NaN.
        acc->c_mism += fold(~fin & valid & ~((va == vb) | (a_nan & b_nan)));
        xa = select_v(fin, va, vzero);
        xb = select_v(fin, vb, vzero);
    }
    const f32x16 dv = xb - xa;
    const f32x16 ad = fabs_v(dv);
    memcpy(dst, &ad, sizeof ad);
    const f32x16 thr = vatol + vrtol * fabs_v(xa);
    acc->c_mism += fold(fin & (ad > thr));
    acc->r_abs = acc->r_abs + ad;
    if (with_sums) {
        const f32x16 p_aa = xa * xa, p_bb = xb * xb, p_ab = xa * xb, p_dd = dv * dv;
        acc->r_aa = acc->r_aa + p_aa;
        acc->r_bb = acc->r_bb + p_bb;
        acc->r_ab = acc->r_ab + p_ab;
        acc->r_dd = acc->r_dd + p_dd;
    }
}

// The counts left out of LVL(group) for one group: finite A beyond 65504 (`beyond`), finite
// non-zero A over a zero in finite B (underflow to zero, `zeros`), and for the cast check, a zero
// in B that is not r(a) under a finite non-zero A (a flush).
LVL_TARGET static inline __attribute__((always_inline)) void LVL(recount_group)(
        vk_acc *acc, const unsigned char *pa, const unsigned char *pb, const i32x16 valid, const int ta, const int tb,
        const int grid_b, const int compare, const int beyond, const int zeros) {
    const f32x16 vinf = (f32x16)INFINITY, vzero = (f32x16)0.0f;
    const f32x16 va = LVL(load)(pa, ta), vb = LVL(load)(pb, tb);
    const f32x16 aa = fabs_v(va);
    const i32x16 a_fin = (aa < vinf) & valid;
    if (compare && beyond) acc->c_beyond += fold(a_fin & (aa > (f32x16)65504.0f));
    if (!zeros) return;
    const i32x16 a_live = a_fin & (aa > vzero), b_zero = vb == vzero;
    if (compare) acc->c_under += fold(a_live & b_zero);
    if (grid_b != CKD_GRID_NONE) {
        const f32x16 t = LVL(round_grid)(va, grid_b);
        acc->c_flush += fold(a_live & b_zero & ~(vb == t));
    }
}
// The float sums of a run, widened and added to the double lanes, and reset.
LVL_TARGET static inline __attribute__((always_inline)) void LVL(end_run)(vk_acc *acc, const int with_sums) {
    acc->d_abs += __builtin_convertvector(acc->r_abs, f64x16);
    acc->r_abs = 0.0f;
    if (with_sums) {
        acc->d_aa += __builtin_convertvector(acc->r_aa, f64x16);
        acc->d_bb += __builtin_convertvector(acc->r_bb, f64x16);
        acc->d_ab += __builtin_convertvector(acc->r_ab, f64x16);
        acc->d_dd += __builtin_convertvector(acc->r_dd, f64x16);
        acc->r_aa = acc->r_bb = acc->r_ab = acc->r_dd = 0.0f;
    }
}

// One block of at most CKD_VK_BLOCK elements: see ckd_vk_args for what it reads and writes.
// `compare` off: the cast check alone (no stats, no d).
LVL_TARGET static inline __attribute__((always_inline)) void LVL(block_body)(
        const ckd_vk_args *k, const int ta, const int tb, const int grid_b, const int grid_a,
        const int compare, const int with_sums) {
    const size_t n = k->n;
    const size_t groups = n / CKD_VK_LANES;
    const size_t size_a = ta == CKD_RAW_F32 ? 4 : 2, size_b = tb == CKD_RAW_F32 ? 4 : 2;
    const unsigned char *ra = (const unsigned char *)k->a, *rb = (const unsigned char *)k->b;
    const f32x16 vatol = (f32x16)k->atol, vrtol = (f32x16)k->rtol;
    float *d = k->d;
    vk_acc acc;
    memset(&acc, 0, sizeof acc);
    acc.bmin = (f32x8)INFINITY;
    // Runs of CKD_VK_RUN groups: within a run each lane sums in float; then the run's lanes are
    // widened and added to the double lanes. The tail group continues the last run.
    for (size_t g0 = 0; g0 < groups; g0 += CKD_VK_RUN) {
        const size_t g1 = g0 + CKD_VK_RUN < groups ? g0 + CKD_VK_RUN : groups;
        for (size_t g = g0; g < g1; g++)
            LVL(group)(&acc, ra + g * CKD_VK_LANES * size_a, rb + g * CKD_VK_LANES * size_b,
                       compare ? d + g * CKD_VK_LANES : NULL, (i32x16)-1, ta, tb, grid_b, grid_a, compare,
                       with_sums, vatol, vrtol);
        if (compare && g1 - g0 == CKD_VK_RUN) LVL(end_run)(&acc, with_sums);
    }
    // The tail: copied into zero-filled groups, its missing lanes masked out of every count.
    const size_t rest = n - groups * CKD_VK_LANES;
    if (rest) {
        unsigned char tail_a[CKD_VK_LANES * 4] = {0}, tail_b[CKD_VK_LANES * 4] = {0};
        float tail_d[CKD_VK_LANES];
        memcpy(tail_a, ra + groups * CKD_VK_LANES * size_a, rest * size_a);
        memcpy(tail_b, rb + groups * CKD_VK_LANES * size_b, rest * size_b);
        LVL(group)(&acc, tail_a, tail_b, tail_d, (i32x16)(kLaneIndex < (int32_t)rest), ta, tb, grid_b, grid_a,
                   compare, with_sums, vatol, vrtol);
        if (compare) memcpy(d + groups * CKD_VK_LANES, tail_d, rest * sizeof(float));
    }
    if (compare && (groups % CKD_VK_RUN != 0 || rest)) LVL(end_run)(&acc, with_sums);
    // The rare counts, over the block again where it can hold any.
    float a_max = 0.0f, b_min = INFINITY;
    for (int j = 0; j < 8; j++) {
        if (acc.amax[j] > a_max) a_max = acc.amax[j];
        if (acc.bmin[j] < b_min) b_min = acc.bmin[j];
    }
    const int beyond = compare && a_max > 65504.0f;
    const int zeros = (compare || grid_b != CKD_GRID_NONE) && b_min == 0.0f;
    if (beyond || zeros) {
        for (size_t g = 0; g < groups; g++)
            LVL(recount_group)(&acc, ra + g * CKD_VK_LANES * size_a, rb + g * CKD_VK_LANES * size_b, (i32x16)-1,
                               ta, tb, grid_b, compare, beyond, zeros);
        if (rest) {
            unsigned char tail_a[CKD_VK_LANES * 4] = {0}, tail_b[CKD_VK_LANES * 4] = {0};
            memcpy(tail_a, ra + groups * CKD_VK_LANES * size_a, rest * size_a);
            memcpy(tail_b, rb + groups * CKD_VK_LANES * size_b, rest * size_b);
            LVL(recount_group)(&acc, tail_a, tail_b, (i32x16)(kLaneIndex < (int32_t)rest), ta, tb, grid_b, compare,
                               beyond, zeros);
        }
    }
    ckd_cast_counts *c = k->counts;
    if (c && grid_b != CKD_GRID_NONE) {
        const int64_t eq = -reduce_i(acc.c_eq), over = -reduce_i(acc.c_over);
        const int64_t flush = -reduce_i(acc.c_flush), nan = -reduce_i(acc.c_nan);
        c->exact += eq - over;
        c->overflow += over;
        c->flushed += flush;
        c->nan += nan;
        c->mismatch += (int64_t)n - eq - flush - nan;
    }
    if (c && grid_a != CKD_GRID_NONE) c->reverse_mismatch += (int64_t)n + reduce_i(acc.c_req);
    if (!compare) return;

    ckd_block_stats *s = k->stats;
    const int64_t finite = (int64_t)n + reduce_i(acc.c_nonfinite);
    s->finite_pairs += finite;
    s->mismatched += -reduce_i(acc.c_mism);
    s->a_nan += -reduce_i(acc.c_anan);
    s->a_inf += -reduce_i(acc.c_ainf);
    s->b_nan += -reduce_i(acc.c_bnan);
    s->b_inf += -reduce_i(acc.c_binf);
    s->new_nonfinite += -reduce_i(acc.c_new);
    s->underflow_to_zero += -reduce_i(acc.c_under);
    s->a_beyond_f16 += -reduce_i(acc.c_beyond);
    s->sum_abs += reduce_d(acc.d_abs);
    if (with_sums) {
        s->sum_aa += reduce_d(acc.d_aa);
        s->sum_bb += reduce_d(acc.d_bb);
        s->sum_ab += reduce_d(acc.d_ab);
        s->sum_dd += reduce_d(acc.d_dd);
    }
    // The block's largest |d| and the number of |d| above 0, from the stored |d| (in cache).
    f32x8 vmax = 0.0f;
    i32x8 nonzero = 0;
    for (size_t g = 0; g < groups; g++) {
        f32x16 v;
        memcpy(&v, d + g * CKD_VK_LANES, sizeof v);
        const f32x8 m = fold_max(v);
        vmax = m > vmax ? m : vmax;
        nonzero += fold(v > (f32x16)0.0f);
    }
    float block_max = 0.0f;
    for (int j = 0; j < 8; j++) if (vmax[j] > block_max) block_max = vmax[j];
    int64_t above_zero = -reduce_i(nonzero);
    for (size_t j = groups * CKD_VK_LANES; j < n; j++) {
        if (d[j] > block_max) block_max = d[j];
        above_zero += d[j] > 0.0f;
    }

    // The histogram from the stored |d|: the number above each edge below the block maximum (edges
    // at or above it have nothing above them); pairs not finite have |d| = 0 and count nowhere above.
    int64_t above[CKD_VK_EDGES];
    above[0] = above_zero;
    for (int e = 1; e < CKD_VK_EDGES; e++) {
        above[e] = 0;
        if (!(kVkEdges[e] < block_max)) continue;
        const f32x16 edge = (f32x16)kVkEdges[e];
        i32x8 hits = 0;
        for (size_t g = 0; g < groups; g++) {
            f32x16 v;
            memcpy(&v, k->d + g * CKD_VK_LANES, sizeof v);
            hits += fold(v > edge);
        }
        above[e] = -reduce_i(hits);
        for (size_t j = groups * CKD_VK_LANES; j < n; j++) above[e] += k->d[j] > kVkEdges[e];
    }
    s->histogram[0] += finite - above[0];
    for (int e = 1; e < CKD_VK_EDGES; e++) s->histogram[e] += above[e - 1] - above[e];
    s->histogram[CKD_VK_EDGES] += above[CKD_VK_EDGES - 1];

    s->max_index = -1;
    if (block_max > k->running_max) {
        for (size_t j = 0; j < n; j++) {
            if (k->d[j] == block_max) { s->max_abs = block_max; s->max_index = (int64_t)j; break; }
        }
    }
}

// The instantiations: raw dtype pairs (the cast check runs where the dtypes differ), and the cast
// check alone on decoded values for each pair of grids.
#define VK_RAW(TA, TB) \
    LVL_TARGET static void LVL(raw_##TA##_##TB)(const ckd_vk_args *k) { \
        const int gb = CKD_RAW_##TA == CKD_RAW_##TB ? CKD_GRID_NONE : vk_raw_grid(CKD_RAW_##TB); \
        const int ga = CKD_RAW_##TA == CKD_RAW_##TB ? CKD_GRID_NONE : vk_raw_grid(CKD_RAW_##TA); \
        LVL(block_body)(k, CKD_RAW_##TA, CKD_RAW_##TB, gb, ga, 1, 1); \
    }
VK_RAW(F32, F32) VK_RAW(F32, F16) VK_RAW(F32, BF16)
VK_RAW(F16, F32) VK_RAW(F16, F16)
VK_RAW(BF16, F32) VK_RAW(BF16, F16) VK_RAW(BF16, BF16)
#undef VK_RAW

// F16 A against BF16 B (BF16 training, F16 saving: the common cast). Where every element of the
// block is an exact cast, b = r_BF16(a) (or both NaN), the reverse check needs no rounding: a
// BF16 value rounded from a binary16 value is itself a binary16 value unless it left the binary16
// range (65504 rounds to 65536, which r_F16 takes to Inf), so r_F16(b) = b there and a = r_F16(b)
// exactly when a = b, that is |d| = 0 (pairs not both finite have |d| = 0 and are the same value:
// NaN and NaN, or the same infinity). The reverse mismatches are then the |d| above 0. Otherwise
// the reverse check runs as a pass of its own over the block.
LVL_TARGET static void LVL(raw_F16_BF16)(const ckd_vk_args *k) {
    ckd_cast_counts forward = {0};
    ckd_vk_args fk = *k;
    fk.counts = &forward;
    LVL(block_body)(&fk, CKD_RAW_F16, CKD_RAW_BF16, CKD_GRID_BF16, CKD_GRID_NONE, 1, 1);
    ckd_cast_counts *c = k->counts;
    if (!c) return;
    c->exact += forward.exact;
    c->overflow += forward.overflow;
    c->flushed += forward.flushed;
    c->nan += forward.nan;
    c->mismatch += forward.mismatch;
    if (forward.exact + forward.overflow == (int64_t)k->n) {
        // k->stats holds this block alone (see run_blocks): |d| > 0 is finite pairs minus bucket 0.
        c->reverse_mismatch += k->stats->finite_pairs - k->stats->histogram[0];
    } else {
        ckd_vk_args rk = *k;
        rk.stats = NULL;
        LVL(block_body)(&rk, CKD_RAW_F16, CKD_RAW_BF16, CKD_GRID_NONE, CKD_GRID_F16, 0, 0);
    }
}

// Decoded values compared without the dot products (the caller takes them with cblas).
LVL_TARGET static void LVL(counts_only)(const ckd_vk_args *k) {
    LVL(block_body)(k, CKD_RAW_F32, CKD_RAW_F32, CKD_GRID_NONE, CKD_GRID_NONE, 1, 0);
}

#define VK_CAST(GB, GA) \
    LVL_TARGET static void LVL(cast_##GB##_##GA)(const ckd_vk_args *k) { \
        LVL(block_body)(k, CKD_RAW_F32, CKD_RAW_F32, CKD_GRID_##GB, CKD_GRID_##GA, 0, 0); \
    }
VK_CAST(NONE, NONE) VK_CAST(NONE, F32) VK_CAST(NONE, F16) VK_CAST(NONE, BF16)
VK_CAST(F32, NONE) VK_CAST(F32, F32) VK_CAST(F32, F16) VK_CAST(F32, BF16)
VK_CAST(F16, NONE) VK_CAST(F16, F32) VK_CAST(F16, F16) VK_CAST(F16, BF16)
VK_CAST(BF16, NONE) VK_CAST(BF16, F32) VK_CAST(BF16, F16) VK_CAST(BF16, BF16)
#undef VK_CAST

static const ckd_vk_table LVL(table) = {
    .raw = {
        {LVL(raw_F32_F32), LVL(raw_F32_F16), LVL(raw_F32_BF16)},
        {LVL(raw_F16_F32), LVL(raw_F16_F16), LVL(raw_F16_BF16)},
        {LVL(raw_BF16_F32), LVL(raw_BF16_F16), LVL(raw_BF16_BF16)},
    },
    .counts_only = LVL(counts_only),
    .cast = {
        {LVL(cast_NONE_NONE), LVL(cast_NONE_F32), LVL(cast_NONE_F16), LVL(cast_NONE_BF16)},
        {LVL(cast_F32_NONE), LVL(cast_F32_F32), LVL(cast_F32_F16), LVL(cast_F32_BF16)},
        {LVL(cast_F16_NONE), LVL(cast_F16_F32), LVL(cast_F16_F16), LVL(cast_F16_BF16)},
        {LVL(cast_BF16_NONE), LVL(cast_BF16_F32), LVL(cast_BF16_F16), LVL(cast_BF16_BF16)},
    },
};

#undef fabs_v
#undef select_v
#undef round_bf16
#undef round_f16_arith
#undef decode_f16_arith
#undef reduce_i
#undef fold
#undef fold_max
#undef fold_min
#undef reduce_d
