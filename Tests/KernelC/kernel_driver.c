// Checks every kernel level this CPU runs against CKD_SIMD_SCALAR, bit for bit: every raw dtype
// pair (compare, sums, cast checks both ways), the decoded compare with and without sums, and the
// cast check alone for every pair of grids, on random data with non-finite values, zeros of both
// signs, subnormals, values past the binary16 range and ties of binary16 and bfloat16 rounding.
// Built and run by the Swift test suite (natively, and for aarch64 under qemu); prints one line per
// level and exits 0 when every level agrees, 1 otherwise.
#include "CKDiffKernels.h"
#include "CKDiffShims.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}
static float uniform(void) { return (float)((next() >> 40) * (1.0 / 16777216.0)); }

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// A value: mostly small normals, sometimes one of the cases the rules single out.
static float sample(void) {
    switch (next() % 24) {
    case 0: return bits_f(0x7fc00000u);                       // NaN
    case 1: return (next() & 1) ? bits_f(0x7f800000u) : bits_f(0xff800000u);
    case 2: return 0.0f;
    case 3: return -0.0f;
    case 4: return bits_f((uint32_t)(next() % 0x7fffffu) + 1u);   // binary32 subnormal
    case 5: return 65504.0f + 16.0f * (float)(next() % 4);    // at and past the binary16 range
    case 6: return 1.0f + 0x1p-11f * (float)(next() % 8);      // binary16 ties
    case 7: return 1.0f + 0x1p-8f * (float)(next() % 8);       // bfloat16 ties
    case 8: return 6e-8f * (float)(next() % 5);                // binary16 subnormals
    case 9: return 3e38f;
    default: return (uniform() - 0.5f) * 0.08f;
    }
}

static void encode(const float *v, size_t n, int code, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = f_bits(v[i]);
        if (code == CKD_RAW_F32) { memcpy(out + 4 * i, &u, 4); continue; }
        uint16_t h;
        if (code == CKD_RAW_BF16) h = (uint16_t)(u >> 16);
        else h = (uint16_t)(next() & 0xffff);                  // any binary16 pattern, NaN and Inf included
        memcpy(out + 2 * i, &h, 2);
    }
}

static int same_bits(const void *x, const void *y, size_t size) { return memcmp(x, y, size) == 0; }

static int failures = 0;
static void expect(int ok, const char *what, int level, int trial) {
    if (!ok) {
        failures++;
        if (failures < 20) fprintf(stderr, "level %d trial %d: %s differs from scalar\n", level, trial, what);
    }
}

static void check_level(int level) {
    enum { MAX = 9000 };
    static float a[MAX], b[MAX], a2[MAX], b2[MAX], d1[MAX], d2[MAX];
    static unsigned char ra[4 * MAX], rb[4 * MAX];
    state = 0x9e3779b97f4a7c15ull;
    for (int trial = 0; trial < 60; trial++) {
        const size_t n = trial == 0 ? 4096 : trial == 1 ? MAX : 1 + next() % 5000;
        for (size_t i = 0; i < n; i++) {
            a[i] = sample();
            b[i] = (next() % 3) ? a[i] + (uniform() - 0.5f) * 1e-3f : sample();
        }
        const float atol = 1e-5f, rtol = trial % 2 ? 1e-3f : 1.6e-2f, running = trial % 3 ? 0.0f : 1e-3f;
        for (int ta = CKD_RAW_F32; ta <= CKD_RAW_BF16; ta++) {
            for (int tb = CKD_RAW_F32; tb <= CKD_RAW_BF16; tb++) {
                encode(a, n, ta, ra);
                encode(b, n, tb, rb);
                ckd_block_stats s1, s2;
                ckd_cast_counts c1, c2;
                memset(&s1, 0, sizeof s1); memset(&s2, 0, sizeof s2);
                memset(&c1, 0, sizeof c1); memset(&c2, 0, sizeof c2);
                ckd_block_compare_raw_at(CKD_SIMD_SCALAR, ra, ta, rb, tb, d1, n, atol, rtol, running, &s1, &c1);
                ckd_block_compare_raw_at(level, ra, ta, rb, tb, d2, n, atol, rtol, running, &s2, &c2);
                expect(same_bits(&s1, &s2, sizeof s1), "raw stats", level, trial);
                expect(same_bits(&c1, &c2, sizeof c1), "raw cast counts", level, trial);
                expect(same_bits(d1, d2, n * sizeof(float)), "raw |d|", level, trial);
            }
        }
        {
            // F16 A against its exact BF16 cast (the kernel's shortcut for that pair), and the same
            // with one element off: the cast counts equal the element-wise check on decoded values.
            encode(a, n, CKD_RAW_F16, ra);
            ckd_f16_to_f32_portable(ra, a2, n);
            for (size_t i = 0; i < n; i++) {
                uint32_t u = f_bits(a2[i]);
                uint16_t h = (a2[i] != a2[i]) ? (uint16_t)(0x7fc0u | ((u >> 16) & 0x8000u)) : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
                memcpy(rb + 2 * i, &h, 2);
                b2[i] = bits_f((uint32_t)h << 16);
            }
            for (int broken = 0; broken <= 1; broken++) {
                if (broken) { rb[n / 2 * 2] ^= 1; b2[n / 2] = bits_f((uint32_t)(rb[n / 2 * 2] | (rb[n / 2 * 2 + 1] << 8)) << 16); }
                ckd_block_stats s1, s2;
                ckd_cast_counts c1, c2, element;
                memset(&s1, 0, sizeof s1); memset(&s2, 0, sizeof s2);
                memset(&c1, 0, sizeof c1); memset(&c2, 0, sizeof c2); memset(&element, 0, sizeof element);
                ckd_block_compare_raw_at(CKD_SIMD_SCALAR, ra, CKD_RAW_F16, rb, CKD_RAW_BF16, d1, n, atol, rtol, running, &s1, &c1);
                ckd_block_compare_raw_at(level, ra, CKD_RAW_F16, rb, CKD_RAW_BF16, d2, n, atol, rtol, running, &s2, &c2);
                ckd_cast_check_at(CKD_SIMD_SCALAR, a2, b2, n, CKD_GRID_BF16, CKD_GRID_F16, &element);
                expect(same_bits(&s1, &s2, sizeof s1) && same_bits(&c1, &c2, sizeof c1), "exact-cast raw", level, trial);
                expect(same_bits(&c2, &element, sizeof c2), "exact-cast counts against the element-wise check", level, trial);
            }
        }
        for (int with_sums = 0; with_sums <= 1; with_sums++) {
            ckd_block_stats s1, s2;
            memset(&s1, 0, sizeof s1); memset(&s2, 0, sizeof s2);
            memcpy(a2, a, n * sizeof(float)); memcpy(b2, b, n * sizeof(float));
            ckd_block_compare_at(CKD_SIMD_SCALAR, a2, b2, d1, n, atol, rtol, running, with_sums, &s1);
            static float a3[MAX], b3[MAX];
            memcpy(a3, a, n * sizeof(float)); memcpy(b3, b, n * sizeof(float));
            ckd_block_compare_at(level, a3, b3, d2, n, atol, rtol, running, with_sums, &s2);
            expect(same_bits(&s1, &s2, sizeof s1), "decoded stats", level, trial);
            expect(same_bits(d1, d2, n * sizeof(float)), "decoded |d|", level, trial);
            expect(same_bits(a2, a3, n * sizeof(float)) && same_bits(b2, b3, n * sizeof(float)), "zeroed a, b", level, trial);
        }
        for (int gb = CKD_GRID_NONE; gb <= CKD_GRID_BF16; gb++) {
            for (int ga = CKD_GRID_NONE; ga <= CKD_GRID_BF16; ga++) {
                ckd_cast_counts c1, c2;
                memset(&c1, 0, sizeof c1); memset(&c2, 0, sizeof c2);
                ckd_cast_check_at(CKD_SIMD_SCALAR, a, b, n, gb, ga, &c1);
                ckd_cast_check_at(level, a, b, n, gb, ga, &c2);
                expect(same_bits(&c1, &c2, sizeof c1), "cast counts", level, trial);
            }
        }
    }
}

int main(void) {
    static const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    int checked = 0;
    for (int level = CKD_SIMD_AVX2; level <= CKD_SIMD_NEON; level++) {
        if (!ckd_simd_level_available(level)) { printf("%s: not available on this CPU\n", names[level]); continue; }
        const int before = failures;
        check_level(level);
        printf("%s: %s\n", names[level], failures == before ? "bit-identical to scalar" : "DIFFERS from scalar");
        checked++;
    }
    if (checked == 0) { printf("no vector level to check\n"); return 1; }
    return failures == 0 ? 0 : 1;
}
