// Counting non-finite values in raw data by bit pattern (the block kernel itself is vkernel.c).
#include "CKDiffKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CKD_X86 1
#define AVX2 __attribute__((target("avx2")))

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
}

AVX2 static inline int64_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    int32_t out[4];
    _mm_storeu_si128((__m128i *)out, s);
    return (int64_t)out[0] + out[1] + out[2] + out[3];
}
#endif

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
