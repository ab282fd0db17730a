/*
 * Native twins of the single-vector quantised row kernels of io.strata.kernels.quant.BlockDot (Q8_0, Q4_0, Q4_K,
 * Q5_K, Q6_K), called from QuantMatVec.matvec through io.strata.kernels.cpu.NativeQuant. Why native: one core
 * streams ~30 GB/s of weights, the Java Vector API kernels consumed 5-14 GB/s of quantised weights (C2's code for
 * the byte widening and nibble unpacking), so quantised decode ran at 0.13-0.42 of the memory bound.
 *
 * Why bit-identical: every determinism test of the runtime compares bits, so per row this code performs, for Java's
 * lane count L = 16, exactly the float operations of the Java kernel: the same accumulators fed in the same order
 * by fused multiply-adds (including an FMA into a zero vector where Java starts a partial sum from zero: that
 * turns a -0 product into +0, a plain multiply would not), the same per-group scale FMAs, the same scalar min terms
 * of Q4_K/Q5_K added in the same order, and the same final reduction: the quantised kernels store the summed
 * accumulators and add the 16 lanes in index order starting from 0f (not the tree order of the float kernels).
 * The integer unpacking is exact in any order, so it is free to differ. Built with -ffp-contract=off and written
 * with intrinsics: the compiler neither fuses nor reassociates a float operation.
 *
 * Row o of a weight starts at byte o * nb * blockBytes of w; x is indexed from xOff and y from yOff + o (formed
 * before it is added to the pointer: Java may pass yOff = -from with a staging buffer).
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRATA_API __attribute__((visibility("default")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define L 16

static inline AVX512 float q_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* The Java kernels' "acc.intoArray(lanes); sum = 0f; sum += lanes[i]" in index order. */
static inline AVX512 float q_lanes_sum(__m512 v) {
    float lanes[L];
    _mm512_storeu_ps(lanes, v);
    float s = 0.0f;
    for (int i = 0; i < L; i++) {
        s += lanes[i];
    }
    return s;
}

/* 16 bytes at p as signed / unsigned int lanes. */
static inline AVX512 __m512i q_s8(const uint8_t *p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) p));
}

static inline AVX512 __m512i q_u8(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p));
}

#define CVT(v) _mm512_cvtepi32_ps(v)
#define LX(i) _mm512_loadu_ps(x + (i))

/* ---------------------------------------------------------------- Q8_0 (34-byte blocks: f16 d, 32 int8) */

/* BlockDot.q8_0: even and odd blocks into acc0 and acc1; a block's first product is a multiply. */
STRATA_API AVX512 int32_t strata_q8_0_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                        int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 34;
    x += xOff;
    const __m512 zero = _mm512_setzero_ps();
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        __m512 acc0 = zero, acc1 = zero;
        int32_t b = 0;
        for (; b + 1 < nb; b += 2) {
            const uint8_t *p = row + 34 * (int64_t) b;
            const float *xb = x + 32 * (int64_t) b;
            __m512 s0 = _mm512_mul_ps(CVT(q_s8(p + 2)), _mm512_loadu_ps(xb));
            __m512 s1 = _mm512_mul_ps(CVT(q_s8(p + 36)), _mm512_loadu_ps(xb + 32));
            s0 = _mm512_fmadd_ps(CVT(q_s8(p + 2 + 16)), _mm512_loadu_ps(xb + 16), s0);
            s1 = _mm512_fmadd_ps(CVT(q_s8(p + 36 + 16)), _mm512_loadu_ps(xb + 48), s1);
            acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(q_f16(p)), acc0);
            acc1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(q_f16(p + 34)), acc1);
        }
        if (b < nb) {
            const uint8_t *p = row + 34 * (int64_t) b;
            const float *xb = x + 32 * (int64_t) b;
            __m512 s0 = _mm512_fmadd_ps(CVT(q_s8(p + 2)), _mm512_loadu_ps(xb), zero);
            s0 = _mm512_fmadd_ps(CVT(q_s8(p + 2 + 16)), _mm512_loadu_ps(xb + 16), s0);
            acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(q_f16(p)), acc0);
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(acc0, acc1));
    }
    return 0;
}

/* ---------------------------------------------------------------- Q4_0 (18-byte blocks: f16 d, 16 nibble bytes) */

/* BlockDot.q4_0: low nibbles (elements 0-15) in s, high (16-31) in t, s + t scaled; even and odd blocks apart. */
STRATA_API AVX512 int32_t strata_q4_0_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                        int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 18;
    x += xOff;
    const __m512 zero = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi32(0x0F);
    const __m512i k8 = _mm512_set1_epi32(8);
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        __m512 acc0 = zero, acc1 = zero;
        int32_t b = 0;
        for (; b + 1 < nb; b += 2) {
            const uint8_t *p = row + 18 * (int64_t) b;
            __m512i q = q_u8(p + 2);
            __m512i u = q_u8(p + 20);
            __m512 s0 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_and_si512(q, m4), k8)), LX(32 * b), zero);
            __m512 t0 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), k8)), LX(32 * b + 16), zero);
            __m512 s1 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_and_si512(u, m4), k8)), LX(32 * b + 32), zero);
            __m512 t1 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_srli_epi32(u, 4), k8)), LX(32 * b + 48), zero);
            acc0 = _mm512_fmadd_ps(_mm512_add_ps(s0, t0), _mm512_set1_ps(q_f16(p)), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_add_ps(s1, t1), _mm512_set1_ps(q_f16(p + 18)), acc1);
        }
        if (b < nb) {
            const uint8_t *p = row + 18 * (int64_t) b;
            __m512i q = q_u8(p + 2);
            __m512 s0 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_and_si512(q, m4), k8)), LX(32 * b), zero);
            __m512 t0 = _mm512_fmadd_ps(CVT(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), k8)), LX(32 * b + 16), zero);
            acc0 = _mm512_fmadd_ps(_mm512_add_ps(s0, t0), _mm512_set1_ps(q_f16(p)), acc0);
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(acc0, acc1));
    }
    return 0;
}

/* ---------------------------------------------------------------- K-quant scales */

/*
 * Sums of x over consecutive groups of 32, each added in index order from 0f (QuantMatVec.groupSums). Into buf
 * when it fits, else a malloc'ed array (NULL when that fails; the caller then reports failure).
 */
static float *q_group_sums(const float *x, int32_t cols, float *buf, int32_t cap) {
    int32_t n = cols / 32;
    float *s = n <= cap ? buf : (float *) malloc(sizeof(float) * (size_t) (n > 0 ? n : 1));
    if (s == NULL) {
        return NULL;
    }
    for (int32_t i = 0; i < n; i++) {
        float a = 0.0f;
        for (int32_t j = 0; j < 32; j++) {
            a += x[32 * (int64_t) i + j];
        }
        s[i] = a;
    }
    return s;
}

/*
 * Q4_K/Q5_K block header at p: group scales d * sc into dsc[0..7]; the min terms dmin * m * xs added to *mins in
 * BlockDot's order (g = 0..3: group g, then group g + 4), each term (dmin * m) * xs.
 */
static inline AVX512 void q_k_scales(const uint8_t *p, const float *xs, float *dsc, float *mins) {
    float d = q_f16(p);
    float dmin = q_f16(p + 2);
    const uint8_t *s = p + 4;
    float m = *mins;
    for (int g = 0; g < 4; g++) {
        int lo = s[g];
        int hi = s[g + 4];
        int cc = s[g + 8];
        dsc[g] = d * (float) (lo & 63);
        dsc[g + 4] = d * (float) ((cc & 0xF) | ((lo >> 6) << 4));
        m += dmin * (float) (hi & 63) * xs[g];
        m += dmin * (float) ((cc >> 4) | ((hi >> 6) << 4)) * xs[g + 4];
    }
    *mins = m;
}

/* ---------------------------------------------------------------- Q4_K (144-byte blocks) */

/* BlockDot.q4K: per 32-byte chunk k, low nibbles are group 2k (acc0), high nibbles group 2k+1 (acc1). */
STRATA_API AVX512 int32_t strata_q4_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                           int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 144;
    x += xOff;
    float buf[1024];
    float *xs = q_group_sums(x, nb * 256, buf, 1024);
    if (xs == NULL) {
        return -1;
    }
    const __m512 zero = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi32(0x0F);
    float dsc[8];
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        float mins = 0.0f;
        __m512 acc0 = zero, acc1 = zero;
        for (int32_t b = 0; b < nb; b++) {
            const uint8_t *p = row + 144 * (int64_t) b;
            q_k_scales(p, xs + 8 * (int64_t) b, dsc, &mins);
            const uint8_t *q = p + 16;
            const float *xb = x + 256 * (int64_t) b;
            for (int k = 0; k < 4; k++) {
                __m512i v0 = q_u8(q + 32 * k);
                __m512i v1 = q_u8(q + 32 * k + 16);
                __m512 s0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(v0, m4)), _mm512_loadu_ps(xb + 64 * k), zero);
                __m512 s1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(v0, 4)), _mm512_loadu_ps(xb + 64 * k + 32), zero);
                s0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(v1, m4)), _mm512_loadu_ps(xb + 64 * k + 16), s0);
                s1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(v1, 4)), _mm512_loadu_ps(xb + 64 * k + 48), s1);
                acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(dsc[2 * k]), acc0);
                acc1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(dsc[2 * k + 1]), acc1);
            }
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(acc0, acc1)) - mins;
    }
    if (xs != buf) {
        free(xs);
    }
    return 0;
}

/* ---------------------------------------------------------------- Q5_K (176-byte blocks) */

/* BlockDot.q5K: Q4_K's nibbles plus high bits 2k (low nibbles) and 2k+1 (high) of qh[l]. */
STRATA_API AVX512 int32_t strata_q5_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                           int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 176;
    x += xOff;
    float buf[1024];
    float *xs = q_group_sums(x, nb * 256, buf, 1024);
    if (xs == NULL) {
        return -1;
    }
    const __m512 zero = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi32(0x0F);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i two = _mm512_set1_epi32(2);
    float dsc[8];
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        float mins = 0.0f;
        __m512 acc0 = zero, acc1 = zero;
        for (int32_t b = 0; b < nb; b++) {
            const uint8_t *p = row + 176 * (int64_t) b;
            q_k_scales(p, xs + 8 * (int64_t) b, dsc, &mins);
            const float *xb = x + 256 * (int64_t) b;
            __m512i h0 = q_u8(p + 16);
            __m512i h1 = q_u8(p + 32);
            for (int k = 0; k < 4; k++) {
                __m512i v0 = q_u8(p + 48 + 32 * k);
                __m512i v1 = q_u8(p + 48 + 32 * k + 16);
                __m512i g0 = _mm512_srli_epi32(h0, 2 * k);
                __m512i g1 = _mm512_srli_epi32(h1, 2 * k);
                __m512i lo0 = _mm512_or_si512(_mm512_and_si512(v0, m4), _mm512_slli_epi32(_mm512_and_si512(g0, one), 4));
                __m512i hi0 = _mm512_or_si512(_mm512_srli_epi32(v0, 4), _mm512_slli_epi32(_mm512_and_si512(g0, two), 3));
                __m512i lo1 = _mm512_or_si512(_mm512_and_si512(v1, m4), _mm512_slli_epi32(_mm512_and_si512(g1, one), 4));
                __m512i hi1 = _mm512_or_si512(_mm512_srli_epi32(v1, 4), _mm512_slli_epi32(_mm512_and_si512(g1, two), 3));
                __m512 s0 = _mm512_fmadd_ps(CVT(lo0), _mm512_loadu_ps(xb + 64 * k), zero);
                __m512 s1 = _mm512_fmadd_ps(CVT(hi0), _mm512_loadu_ps(xb + 64 * k + 32), zero);
                s0 = _mm512_fmadd_ps(CVT(lo1), _mm512_loadu_ps(xb + 64 * k + 16), s0);
                s1 = _mm512_fmadd_ps(CVT(hi1), _mm512_loadu_ps(xb + 64 * k + 48), s1);
                acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(dsc[2 * k]), acc0);
                acc1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(dsc[2 * k + 1]), acc1);
            }
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(acc0, acc1)) - mins;
    }
    if (xs != buf) {
        free(xs);
    }
    return 0;
}

/* ---------------------------------------------------------------- Q6_K (210-byte blocks) */

/*
 * BlockDot.q6K: scales d * sc[g] per 16 (a vector multiply); per half h and 16-lane step l the four quarters'
 * codes times x (a multiply) are FMA'd with their group scale into acc0..acc3; (acc0 + acc1) + (acc2 + acc3).
 */
STRATA_API AVX512 int32_t strata_q6_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                        int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 210;
    x += xOff;
    const __m512 zero = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi32(0x0F);
    const __m512i k3 = _mm512_set1_epi32(3);
    const __m512i kc = _mm512_set1_epi32(0x0C);
    const __m512i k30 = _mm512_set1_epi32(0x30);
    const __m512i k32 = _mm512_set1_epi32(32);
    float dsc[16];
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        __m512 acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
        for (int32_t b = 0; b < nb; b++) {
            const uint8_t *p = row + 210 * (int64_t) b;
            const float *xb = x + 256 * (int64_t) b;
            _mm512_storeu_ps(dsc, _mm512_mul_ps(CVT(q_s8(p + 192)), _mm512_set1_ps(q_f16(p + 208))));
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    __m512i ql0 = q_u8(p + 64 * h + l);
                    __m512i ql1 = q_u8(p + 64 * h + 32 + l);
                    __m512i qh = q_u8(p + 128 + 32 * h + l);
                    __m512i q0 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(ql0, m4),
                            _mm512_slli_epi32(_mm512_and_si512(qh, k3), 4)), k32);
                    __m512i q1 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(ql1, m4),
                            _mm512_slli_epi32(_mm512_and_si512(qh, kc), 2)), k32);
                    __m512i q2 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(ql0, 4),
                            _mm512_and_si512(qh, k30)), k32);
                    __m512i q3 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(ql1, 4),
                            _mm512_and_si512(_mm512_srli_epi32(qh, 2), k30)), k32);
                    int e = 128 * h + l;
                    int g = e >> 4;
                    acc0 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(q0), _mm512_loadu_ps(xb + e)),
                            _mm512_set1_ps(dsc[g]), acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(q1), _mm512_loadu_ps(xb + e + 32)),
                            _mm512_set1_ps(dsc[g + 2]), acc1);
                    acc2 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(q2), _mm512_loadu_ps(xb + e + 64)),
                            _mm512_set1_ps(dsc[g + 4]), acc2);
                    acc3 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(q3), _mm512_loadu_ps(xb + e + 96)),
                            _mm512_set1_ps(dsc[g + 6]), acc3);
                }
            }
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
    }
    return 0;
}
