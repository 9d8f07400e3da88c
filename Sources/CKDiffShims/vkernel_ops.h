// Lane-wise helpers of the block kernel, included by vkernel_body.h once per level (a vector
// argument may only cross between functions compiled for the same target): the names are
// macros that vkernel_body.h points at the level's copies.
#define VK_FN LVL_TARGET static inline __attribute__((always_inline))

VK_FN f32x16 fabs_v(f32x16 x) {
    return (f32x16)((u32x16)x & 0x7fffffffu);
}

/// m ? x : y lane by lane (m: compare masks, -1 or 0).
VK_FN f32x16 select_v(i32x16 m, f32x16 x, f32x16 y) {
    return (f32x16)(((i32x16)x & m) | ((i32x16)y & ~m));
}

/// x rounded to bfloat16 (to nearest, ties to even, overflow to ±Inf by the carry into the
/// exponent; NaN kept) and widened back.
VK_FN f32x16 round_bf16(f32x16 x) {
    const u32x16 u = (u32x16)x;
    const u32x16 r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    return select_v(x != x, x, (f32x16)r);
}

/// x rounded to binary16 and widened back, by binary32 arithmetic alone. With E the binary
/// exponent of |x| held to [-14, 15] and c = 2^(E+13), (|x| + c) - c rounds |x| to a multiple of
/// 2^(E-10), binary16's spacing there (2^-24 below 2^-14), to nearest with ties to even, the
/// subtraction being exact; a result above 65504 becomes +Inf. The sign is put back; NaN kept.
VK_FN f32x16 round_f16_arith(f32x16 x) {
    const u32x16 bits = (u32x16)x;
    const f32x16 ax = fabs_v(x);
    u32x16 e = bits & 0x7f800000u;
    const i32x16 low = e < (113u << 23), high = e > (142u << 23);
    e = (u32x16)select_v(low, (f32x16)(u32x16)(113u << 23), (f32x16)e);
    e = (u32x16)select_v(high, (f32x16)(u32x16)(142u << 23), (f32x16)e);
    const f32x16 c = (f32x16)(e + (13u << 23));
    const f32x16 sum = ax + c;
    f32x16 r = sum - c;
    r = select_v(r > (f32x16)65504.0f, (f32x16)INFINITY, r);
    r = (f32x16)((u32x16)r | (bits & 0x80000000u));
    return select_v(x != x, x, r);
}

/// binary16 bit patterns decoded exactly to binary32: the exponent and fraction moved into
/// place and scaled by 2^112 (exact for normal and subnormal values), Inf and NaN by their bits.
VK_FN f32x16 decode_f16_arith(u16x16 h) {
    const u32x16 w = __builtin_convertvector(h, u32x16);
    const u32x16 sign = (w & 0x8000u) << 16, em = w & 0x7fffu;
    const f32x16 finite = (f32x16)(em << 13) * (f32x16)0x1p112f;
    const f32x16 special = (f32x16)((em << 13) | 0x7f800000u);
    const f32x16 v = select_v((i32x16)(em >= 0x7c00u), special, finite);
    return (f32x16)((u32x16)v | sign);
}

VK_FN int64_t reduce_i(i32x8 v) {
    return (int64_t)__builtin_reduce_add(v);
}

/// The two halves of a group's compare masks added: -2, -1 or 0 per lane.
VK_FN i32x8 fold(i32x16 m) {
    return __builtin_shufflevector(m, m, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15);
}

/// The larger of the two halves of x, lane by lane (NaN lanes lose to numbers in the second half).
VK_FN f32x8 fold_max(f32x16 x) {
    const f32x8 lo = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7);
    const f32x8 hi = __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
    return lo > hi ? lo : hi;
}

VK_FN f32x8 fold_min(f32x16 x) {
    const f32x8 lo = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7);
    const f32x8 hi = __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
    return lo < hi ? lo : hi;
}

/// The 16 double lanes added in a fixed tree: lane i with lane i + 8, then i + 4, i + 2, i + 1.
VK_FN double reduce_d(f64x16 v) {
    typedef double f64x8 __attribute__((ext_vector_type(8)));
    typedef double f64x4 __attribute__((ext_vector_type(4)));
    typedef double f64x2 __attribute__((ext_vector_type(2)));
    const f64x8 v8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
                   + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    const f64x4 v4 = __builtin_shufflevector(v8, v8, 0, 1, 2, 3) + __builtin_shufflevector(v8, v8, 4, 5, 6, 7);
    const f64x2 v2 = __builtin_shufflevector(v4, v4, 0, 1) + __builtin_shufflevector(v4, v4, 2, 3);
    return v2[0] + v2[1];
}

#undef VK_FN
