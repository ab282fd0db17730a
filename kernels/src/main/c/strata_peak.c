/*
 * The CPU's peak multiply-add rate in the two arithmetics the prompt (batch) kernels run: AVX-512 float FMA
 * (vfmadd231ps zmm: 16 multiply-adds) and AVX-512 VNNI (vpdpbusd zmm: 64 u8 x s8 multiply-adds into int32). No
 * loads, no stores: 12 independent accumulators, enough to cover either instruction's latency on the pipes this
 * machine has, so the loop runs at the issue rate. A batched prompt can never be faster than (this rate / the
 * multiply-adds per token); io.strata.kernels.cpu.ComputePeak calls these and bench compute reports prefill
 * against that bound, as it reports decode against the streaming-read bound.
 *
 * Both return the multiply-adds done, or -1 when this CPU lacks the instructions. sink keeps the compiler from
 * dropping the loop.
 */
#include <immintrin.h>
#include <stdint.h>

#define PEAK_API __attribute__((visibility("default")))
#define PEAK_ACC 12

PEAK_API __attribute__((target("avx512f,fma"))) int64_t strata_peak_fma(int64_t iterations, float *sink) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("fma")) {
        return -1;
    }
    __m512 a[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) {
        a[i] = _mm512_set1_ps((float) i * 1e-3f);
    }
    const __m512 m = _mm512_set1_ps(0.999999f);
    const __m512 c = _mm512_set1_ps(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < PEAK_ACC; i++) {
            a[i] = _mm512_fmadd_ps(a[i], m, c);
        }
    }
    __m512 s = a[0];
    for (int i = 1; i < PEAK_ACC; i++) {
        s = _mm512_add_ps(s, a[i]);
    }
    *sink = _mm512_reduce_add_ps(s);
    return iterations * PEAK_ACC * 16;
}

PEAK_API __attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t strata_peak_dpbusd(int64_t iterations,
        float *sink) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")
            || !__builtin_cpu_supports("avx512vnni")) {
        return -1;
    }
    __m512i a[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) {
        a[i] = _mm512_set1_epi32(i);
    }
    const __m512i u = _mm512_set1_epi8(3);
    const __m512i v = _mm512_set1_epi8(-5);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < PEAK_ACC; i++) {
            a[i] = _mm512_dpbusd_epi32(a[i], u, v);
        }
    }
    __m512i s = a[0];
    for (int i = 1; i < PEAK_ACC; i++) {
        s = _mm512_add_epi32(s, a[i]);
    }
    *sink = (float) _mm512_reduce_add_epi32(s);
    return iterations * PEAK_ACC * 64;
}
