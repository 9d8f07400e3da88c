#ifndef CKDIFF_SHIMS_H
#define CKDIFF_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include "CKDiffKernels.h"

/// Converts `count` IEEE binary16 values (little-endian, any alignment) to binary32.
///
/// The conversion is exact for every input, subnormals, signed zeros, infinities and
/// NaN payloads included. Uses the F16C instruction when the CPU has it (checked once
/// at run time), otherwise an exact integer routine.
void ckd_f16_to_f32(const void *src, float *dst, size_t count);

/// Rounds `count` binary32 values to binary16 (round to nearest, ties to even) and
/// widens the result back to binary32, which is what `torch.Tensor.half().float()` gives.
///
/// Values beyond the binary16 range become infinities; NaN stays NaN.
void ckd_f32_round_through_f16(const float *src, float *dst, size_t count);

/// Converts `count` bfloat16 values (little-endian, any alignment) to binary32: exact,
/// the upper half of the binary32 bit pattern. Uses AVX2 when the CPU has it.
void ckd_bf16_to_f32(const void *src, float *dst, size_t count);

/// Tells whether the F16C fast path is in use (1) or the portable routine (0).
int ckd_f16c_available(void);

/// `ckd_f16_to_f32` forced onto the portable integer routine, whatever the CPU; for tests.
void ckd_f16_to_f32_portable(const void *src, float *dst, size_t count);

/// `ckd_f32_round_through_f16` forced onto the portable integer routine, whatever the CPU; for tests.
void ckd_f32_round_through_f16_portable(const float *src, float *dst, size_t count);

#endif
