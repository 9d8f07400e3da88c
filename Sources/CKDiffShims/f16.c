// Half-precision conversions with a run-time choice between F16C and an exact
// integer routine, so a default `swift build` is fast on any x86-64 with F16C and
// still correct everywhere else.
#include "CKDiffShims.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CKD_X86 1
#endif

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static float half_to_float_exact(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) {                      // Inf or NaN: keep the payload
        return bits_f32(sign | 0x7f800000u | (man << 13));
    }
    if (exp == 0) {
        // zero or subnormal: value = man * 2^-24, exact in binary32
        float v = (float)man * 5.9604644775390625e-08f;
        return bits_f32(f32_bits(v) | sign);
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

static uint16_t float_to_half_rne(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) {              // Inf or NaN
        if (absx == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        return (uint16_t)(sign | 0x7e00u | ((absx >> 13) & 0x3ffu));
    }
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); // rounds to >= 65520: Inf
    if (absx < 0x38800000u) {               // below the smallest normal half: subnormal or zero
        // value / 2^-24 rounded to nearest even, computed in float exactly
        float a = bits_f32(absx) * 16777216.0f; // scale by 2^24: exact
        // round to nearest even integer
        float r = a + 8388608.0f;             // 2^23 trick, a < 2^10 so exact RNE
        uint32_t m = (uint32_t)(r - 8388608.0f);
        return (uint16_t)(sign | m);
    }
    uint32_t exp = (absx >> 23) - 112u;
    uint32_t man = absx & 0x7fffffu;
    uint32_t h = (exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h += 1u;
    return (uint16_t)(sign | h);
}

static void f16_to_f32_portable(const void *src, float *dst, size_t count) {
    const unsigned char *p = (const unsigned char *)src;
    for (size_t i = 0; i < count; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
        dst[i] = half_to_float_exact(h);
    }
}

static void f32_round_through_f16_portable(const float *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = half_to_float_exact(float_to_half_rne(src[i]));
}

#ifdef CKD_X86
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const void *src, float *dst, size_t count) {
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m128i h0 = _mm_loadu_si128((const __m128i *)(p + 2 * i));
        __m128i h1 = _mm_loadu_si128((const __m128i *)(p + 2 * i + 16));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h0));
        _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(h1));
    }
    if (i < count) f16_to_f32_portable(p + 2 * i, dst + i, count - i);
}

__attribute__((target("avx,f16c")))
static void f32_round_through_f16_f16c(const float *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(src + i);
        __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    if (i < count) f32_round_through_f16_portable(src + i, dst + i, count - i);
}

static int has_f16c(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = (__builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx")) ? 1 : 0;
    }
    return cached;
}
#endif

static void bf16_to_f32_portable(const void *src, float *dst, size_t count) {
    const unsigned char *p = (const unsigned char *)src;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)(p[2 * i] | (p[2 * i + 1] << 8)) << 16;
        memcpy(dst + i, &bits, 4);
    }
}

#ifdef CKD_X86
__attribute__((target("avx2")))
static void bf16_to_f32_avx2(const void *src, float *dst, size_t count) {
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    if (i < count) bf16_to_f32_portable(p + 2 * i, dst + i, count - i);
}

static int has_avx2_bf16(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
}
#endif

void ckd_bf16_to_f32(const void *src, float *dst, size_t count) {
#ifdef CKD_X86
    if (has_avx2_bf16()) { bf16_to_f32_avx2(src, dst, count); return; }
#endif
    bf16_to_f32_portable(src, dst, count);
}

int ckd_f16c_available(void) {
#ifdef CKD_X86
    return has_f16c();
#else
    return 0;
#endif
}

void ckd_f16_to_f32(const void *src, float *dst, size_t count) {
#ifdef CKD_X86
    if (has_f16c()) { f16_to_f32_f16c(src, dst, count); return; }
#endif
    f16_to_f32_portable(src, dst, count);
}

void ckd_f32_round_through_f16(const float *src, float *dst, size_t count) {
#ifdef CKD_X86
    if (has_f16c()) { f32_round_through_f16_f16c(src, dst, count); return; }
#endif
    f32_round_through_f16_portable(src, dst, count);
}

void ckd_f16_to_f32_portable(const void *src, float *dst, size_t count) {
    f16_to_f32_portable(src, dst, count);
}

void ckd_f32_round_through_f16_portable(const float *src, float *dst, size_t count) {
    f32_round_through_f16_portable(src, dst, count);
}
