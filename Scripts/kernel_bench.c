// The fused block kernel alone, on one reader chunk held in cache: nanoseconds per element pair.
//
// It isolates ckd_block_compare_raw_using from reading (the pread copy) and from everything around
// it, for comparing kernel changes against each other; Scripts/bench measures whole runs. Build
// and run it with Scripts/kernel-bench. One chunk of 131,072 elements (the reader's), values
// N(0, 0.02) rounded to F16 with a fixed seed, compared block by block (4096 elements) as
// WorkerBuffers does, with the caller's exact-cast flag carried the same way. The best of 5
// rounds is printed, with the counts of the last pass (they must not change between kernels).
//
// Every kernel level the CPU runs is measured in turn (CKDIFF_SIMD=avx512|avx2|neon|scalar: that
// level alone); kernels from before the levels existed run once, at their own dispatch.
//
// Pairs:
//   cast      F16 against its exact BF16 cast (the bench's P3)
//   bf16      F16 against BF16 of slightly different values (not a cast)
//   f16       F16 against F16 with every third element changed in its last bit
#include "CKDiffKernels.h"
#include "CKDiffShims.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state = 88172645463325252ull;

static double uniform(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(void) {
    return sqrt(-2.0 * log(uniform() + 1e-300)) * cos(6.283185307179586 * uniform());
}

// binary32 to binary16 bits, round to nearest even (finite, normal-range inputs of this benchmark).
static uint16_t to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int exponent = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t mantissa = u & 0x7fffffu;
    if (exponent <= 0) {   // subnormal half
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000u;
        int shift = 14 - exponent;
        uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)exponent << 10) | (mantissa >> 13), rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

static uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static int run(const char *pair, int passes, const uint16_t *a, const uint16_t *b, int tb, float *d, size_t n, size_t block);

int main(int argc, char **argv) {
    const char *pair = argc > 1 ? argv[1] : "cast";
    int passes = argc > 2 ? atoi(argv[2]) : 2000;
    if (passes < 5) passes = 5;
    const size_t n = 128 * 1024, block = 4096;
    uint16_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float *values = malloc(n * sizeof *values), *decoded = malloc(n * sizeof *decoded), *d = malloc(block * sizeof *d);
    if (!a || !b || !values || !decoded || !d) return 2;
    for (size_t i = 0; i < n; i++) {
        values[i] = (float)(normal() * 0.02);
        a[i] = to_f16(values[i]);
    }
    ckd_f16_to_f32_portable(a, decoded, n);
    int tb;
    if (strcmp(pair, "cast") == 0) {
        for (size_t i = 0; i < n; i++) b[i] = to_bf16(decoded[i]);
        tb = CKD_RAW_BF16;
    } else if (strcmp(pair, "bf16") == 0) {
        for (size_t i = 0; i < n; i++) b[i] = to_bf16(values[i] * 1.001f);
        tb = CKD_RAW_BF16;
    } else if (strcmp(pair, "f16") == 0) {
        for (size_t i = 0; i < n; i++) b[i] = (uint16_t)(a[i] ^ (i % 3 == 0));
        tb = CKD_RAW_F16;
    } else {
        fprintf(stderr, "kernel_bench: unknown pair %s (cast, bf16, f16)\n", pair);
        return 2;
    }
#ifdef CKD_HAS_SIMD_LEVELS
    // Each level this CPU runs, or only the one CKDIFF_SIMD names.
    static const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    const char *only = getenv("CKDIFF_SIMD");
    for (int level = 0; level < 4; level++) {
        if (only && *only && strcmp(only, names[level]) != 0) continue;
        if (!ckd_simd_level_available(level)) {
            if (only && *only) { fprintf(stderr, "kernel_bench: this CPU lacks %s\n", only); return 2; }
            continue;
        }
        ckd_simd_set_level(level);
        printf("[%s] ", names[level]);
        run(pair, passes, a, b, tb, d, n, block);
    }
    return 0;
#else
    return run(pair, passes, a, b, tb, d, n, block);
#endif
}

static int run(const char *pair, int passes, const uint16_t *a, const uint16_t *b, int tb, float *d, size_t n, size_t block) {
    ckd_block_stats stats;
    ckd_cast_counts cast;
    double best = INFINITY, best_cpu = INFINITY;
    for (int round = 0; round < 5; round++) {
        struct timespec t0, t1, c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        for (int pass = 0; pass < passes / 5; pass++) {
            memset(&stats, 0, sizeof stats);
            memset(&cast, 0, sizeof cast);
            for (size_t o = 0; o < n; o += block) {
                int flags = CKD_RAW_BF16_INSTRUCTION;
                if (cast.mismatch == 0 && cast.flushed == 0) flags |= CKD_RAW_EXACT_CAST_SO_FAR;
                float running = stats.max_abs;
                if (!ckd_block_compare_raw_using(flags, a + o, CKD_RAW_F16, b + o, tb, d, block, 1e-5f, 1.6e-2f,
                                                 running, &stats, &cast)) {
                    fprintf(stderr, "kernel_bench: this CPU has no fused kernel\n");
                    return 2;
                }
                if (stats.max_index < 0) stats.max_abs = running;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)(passes / 5) * (double)n);
        double cpu = ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / ((double)(passes / 5) * (double)n);
        if (ns < best) best = ns;
        if (cpu < best_cpu) best_cpu = cpu;
    }
    // CPU time as well: on a shared machine the wall time also counts other processes' turns.
    printf("%s: %.3f ns per element pair, %.3f ns of CPU time (best of 5 rounds of %d passes over %zu elements)\n",
           pair, best, best_cpu, passes / 5, n);
    printf("  mismatched %lld, histogram", (long long)stats.mismatched);
    for (int k = 0; k < CKD_HISTOGRAM_BUCKETS; k++) printf(" %lld", (long long)stats.histogram[k]);
    printf("\n  cast exact %lld, mismatch %lld, reverse mismatch %lld; sum |d| %.9g, max |d| %.9g\n",
           (long long)cast.exact, (long long)cast.mismatch, (long long)cast.reverse_mismatch, stats.sum_abs, stats.max_abs);
    return 0;
}
