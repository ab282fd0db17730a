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
    /* a code's value (q - 8) as a float by table lookup: vpermps reads the low 4 bits of each index lane */
    const __m512 lut = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        __m512 acc0 = zero, acc1 = zero;
        int32_t b = 0;
        for (; b + 1 < nb; b += 2) {
            const uint8_t *p = row + 18 * (int64_t) b;
            __m512i q = q_u8(p + 2);
            __m512i u = q_u8(p + 20);
            __m512 s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(q, lut), LX(32 * b), zero);
            __m512 t0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), lut), LX(32 * b + 16), zero);
            __m512 s1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(u, lut), LX(32 * b + 32), zero);
            __m512 t1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(u, 4), lut), LX(32 * b + 48), zero);
            acc0 = _mm512_fmadd_ps(_mm512_add_ps(s0, t0), _mm512_set1_ps(q_f16(p)), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_add_ps(s1, t1), _mm512_set1_ps(q_f16(p + 18)), acc1);
        }
        if (b < nb) {
            const uint8_t *p = row + 18 * (int64_t) b;
            __m512i q = q_u8(p + 2);
            __m512 s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(q, lut), LX(32 * b), zero);
            __m512 t0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), lut), LX(32 * b + 16), zero);
            acc0 = _mm512_fmadd_ps(_mm512_add_ps(s0, t0), _mm512_set1_ps(q_f16(p)), acc0);
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(acc0, acc1));
    }
    return 0;
}

/* ---------------------------------------------------------------- K-quant scales */

/*
 * Sums of x over consecutive groups of 32, each added in index order from 0f (QuantMatVec.groupSums). Eight
 * groups at a time (eight independent chains; each group's own order is Java's): one serial chain per call cost
 * as much as the rows of a small call (a batched matvec calls once per block of rows that fits a cache).
 */
static void q_sums32(const float *x, int32_t n, float *s) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
        const float *p = x + 32 * (int64_t) i;
        for (int j = 0; j < 32; j++) {
            a0 += p[j];
            a1 += p[32 + j];
            a2 += p[64 + j];
            a3 += p[96 + j];
            a4 += p[128 + j];
            a5 += p[160 + j];
            a6 += p[192 + j];
            a7 += p[224 + j];
        }
        s[i] = a0;
        s[i + 1] = a1;
        s[i + 2] = a2;
        s[i + 3] = a3;
        s[i + 4] = a4;
        s[i + 5] = a5;
        s[i + 6] = a6;
        s[i + 7] = a7;
    }
    for (; i < n; i++) {
        float a = 0.0f;
        for (int j = 0; j < 32; j++) {
            a += x[32 * (int64_t) i + j];
        }
        s[i] = a;
    }
}

/*
 * The group sums of the last x this thread asked for, with a copy of that x: a matvec over many row blocks (and
 * Q4_K gate/up after one another) passes the same x again, and bit-equal inputs have bit-equal sums.
 */
#define Q_SUMS_CACHED_COLS 16384
static __thread float q_cached_x[Q_SUMS_CACHED_COLS];
static __thread float q_cached_sums[Q_SUMS_CACHED_COLS / 32];
static __thread int32_t q_cached_cols = -1;

/* x's group sums: the thread's cached ones, or a malloc'ed array (*owned = 1; NULL when malloc fails). */
static const float *q_group_sums(const float *x, int32_t cols, int *owned) {
    int32_t n = cols / 32;
    *owned = 0;
    if (cols <= Q_SUMS_CACHED_COLS) {
        if (q_cached_cols != cols || memcmp(q_cached_x, x, sizeof(float) * (size_t) cols) != 0) {
            q_cached_cols = -1;
            q_sums32(x, n, q_cached_sums);
            memcpy(q_cached_x, x, sizeof(float) * (size_t) cols);
            q_cached_cols = cols;
        }
        return q_cached_sums;
    }
    float *s = (float *) malloc(sizeof(float) * (size_t) n);
    if (s != NULL) {
        q_sums32(x, n, s);
        *owned = 1;
    }
    return s;
}

/*
 * Q4_K/Q5_K block header at p: group scales d * sc into dsc[0..7]; the min terms dmin * m * xs added to *mins in
 * BlockDot's order (g = 0..3: group g, then group g + 4), each term (dmin * m) * xs. The 6-bit fields are
 * unpacked four at a time in 32-bit integer registers (scales s[0..11] at p + 4: sc[g] = s[g] & 63 and
 * m[g] = s[g+4] & 63 for g < 4; sc[g+4] = (s[g+8] & 15) | (s[g] >> 6) << 4 and m[g+4] = (s[g+8] >> 4)
 * | (s[g+4] >> 6) << 4), then widened and converted once for all 16; lanes 0-7 are multiplied by d and then by 1
 * (exact), lanes 8-15 by dmin and then by xs: each lane rounds as Java's scalar products do. Only the additions
 * into the min sum stay scalar, in Java's order.
 */
static inline AVX512 void q_k_scales(const uint8_t *p, const float *xs, float *dsc, float *mins) {
    uint32_t s0, s4, s8, dd;
    memcpy(&dd, p, 4);
    memcpy(&s0, p + 4, 4);
    memcpy(&s4, p + 8, 4);
    memcpy(&s8, p + 12, 4);
    uint32_t scLo = s0 & 0x3F3F3F3Fu;
    uint32_t scHi = (s8 & 0x0F0F0F0Fu) | ((s0 >> 2) & 0x30303030u);
    uint32_t mLo = s4 & 0x3F3F3F3Fu;
    uint32_t mHi = ((s8 >> 4) & 0x0F0F0F0Fu) | ((s4 >> 2) & 0x30303030u);
    __m128i codes = _mm_set_epi32((int) mHi, (int) mLo, (int) scHi, (int) scLo);
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(codes));
    __m512 scale = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
            _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int) dd))));
    __m512 second = _mm512_insertf32x8(_mm512_set1_ps(1.0f), _mm256_loadu_ps(xs), 1);
    float t[16];
    _mm512_storeu_ps(t, _mm512_mul_ps(_mm512_mul_ps(scale, v), second));
    memcpy(dsc, t, 8 * sizeof(float));
    float m = *mins;
    m += t[8];
    m += t[12];
    m += t[9];
    m += t[13];
    m += t[10];
    m += t[14];
    m += t[11];
    m += t[15];
    *mins = m;
}

/* ---------------------------------------------------------------- Q4_K (144-byte blocks) */

/*
 * BlockDot.q4K for rows r0 and r1 at once (each row's operations are the Java kernel's): per 32-byte chunk k, low
 * nibbles are group 2k (acc0), high nibbles group 2k+1 (acc1). Two rows because the min sum is a chain of 8
 * dependent additions per block (Java's order), which alone bounds one row at 24 cycles per block; two rows'
 * chains run side by side.
 */
static inline AVX512 void q4k_pair(const uint8_t *r0, const uint8_t *r1, int32_t nb, const float *x,
                                   const float *xs, float *out0, float *out1) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi32(0x0F);
    float dsc0[8], dsc1[8];
    float mins0 = 0.0f, mins1 = 0.0f;
    __m512 a0 = zero, a1 = zero, c0 = zero, c1 = zero;
    for (int32_t b = 0; b < nb; b++) {
        const uint8_t *p0 = r0 + 144 * (int64_t) b;
        const uint8_t *p1 = r1 + 144 * (int64_t) b;
        q_k_scales(p0, xs + 8 * (int64_t) b, dsc0, &mins0);
        q_k_scales(p1, xs + 8 * (int64_t) b, dsc1, &mins1);
        const float *xb = x + 256 * (int64_t) b;
        for (int k = 0; k < 4; k++) {
            __m512 xa = _mm512_loadu_ps(xb + 64 * k);
            __m512 xe = _mm512_loadu_ps(xb + 64 * k + 16);
            __m512 xc = _mm512_loadu_ps(xb + 64 * k + 32);
            __m512 xf = _mm512_loadu_ps(xb + 64 * k + 48);
            __m512i v0 = q_u8(p0 + 16 + 32 * k);
            __m512i v1 = q_u8(p0 + 16 + 32 * k + 16);
            __m512i u0 = q_u8(p1 + 16 + 32 * k);
            __m512i u1 = q_u8(p1 + 16 + 32 * k + 16);
            __m512 s0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(v0, m4)), xa, zero);
            __m512 s1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(v0, 4)), xc, zero);
            __m512 t0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(u0, m4)), xa, zero);
            __m512 t1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(u0, 4)), xc, zero);
            s0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(v1, m4)), xe, s0);
            s1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(v1, 4)), xf, s1);
            t0 = _mm512_fmadd_ps(CVT(_mm512_and_si512(u1, m4)), xe, t0);
            t1 = _mm512_fmadd_ps(CVT(_mm512_srli_epi32(u1, 4)), xf, t1);
            a0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(dsc0[2 * k]), a0);
            a1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(dsc0[2 * k + 1]), a1);
            c0 = _mm512_fmadd_ps(t0, _mm512_set1_ps(dsc1[2 * k]), c0);
            c1 = _mm512_fmadd_ps(t1, _mm512_set1_ps(dsc1[2 * k + 1]), c1);
        }
    }
    *out0 = q_lanes_sum(_mm512_add_ps(a0, a1)) - mins0;
    *out1 = q_lanes_sum(_mm512_add_ps(c0, c1)) - mins1;
}

STRATA_API AVX512 int32_t strata_q4_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                           int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 144;
    x += xOff;
    int owned;
    const float *xs = q_group_sums(x, nb * 256, &owned);
    if (xs == NULL) {
        return -1;
    }
    int32_t r = from;
    for (; r + 1 < to; r += 2) {
        q4k_pair(w + r * rb, w + (r + 1) * rb, nb, x, xs, y + ((int64_t) yOff + r), y + ((int64_t) yOff + r + 1));
    }
    if (r < to) {
        float unused;
        q4k_pair(w + r * rb, w + r * rb, nb, x, xs, y + ((int64_t) yOff + r), &unused);
    }
    if (owned) {
        free((void *) xs);
    }
    return 0;
}

/* ---------------------------------------------------------------- Q5_K (176-byte blocks) */

/*
 * BlockDot.q5K: Q4_K's nibbles plus high bits 2k (low nibbles) and 2k+1 (high) of qh[l]. One row at a time: the
 * two-row form (as Q4_K's) was faster on cached weights but three times slower streaming from memory (the
 * hardware prefetcher lost the two interleaved 176-byte-block streams; software prefetch recovered only part).
 */
STRATA_API AVX512 int32_t strata_q5_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                           int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 176;
    x += xOff;
    int owned;
    const float *xs = q_group_sums(x, nb * 256, &owned);
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
    if (owned) {
        free((void *) xs);
    }
    return 0;
}

/* ---------------------------------------------------------------- Q6_K (210-byte blocks) */

/*
 * BlockDot.q6K: scales d * sc[g] per 16 (a vector multiply); per half h and 16-lane step l the four quarters'
 * codes times x (a multiply) are FMA'd with their group scale into acc0..acc3; (acc0 + acc1) + (acc2 + acc3).
 * The 6-bit codes (minus 32) are assembled in byte lanes, 32 at a time (exact: the same integers as Java's int
 * lanes), then sign-extended 16 at a time.
 */
STRATA_API AVX512 int32_t strata_q6_k_rows(const uint8_t *w, int32_t nb, const float *x, int32_t xOff, float *y,
                                           int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) nb * 210;
    x += xOff;
    const __m512 zero = _mm512_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i k30 = _mm256_set1_epi8(0x30);
    const __m256i k32 = _mm256_set1_epi8(32);
    float dsc[16];
    for (int32_t r = from; r < to; r++) {
        const uint8_t *row = w + r * rb;
        __m512 acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
        for (int32_t b = 0; b < nb; b++) {
            const uint8_t *p = row + 210 * (int64_t) b;
            const float *xb = x + 256 * (int64_t) b;
            _mm512_storeu_ps(dsc, _mm512_mul_ps(CVT(q_s8(p + 192)), _mm512_set1_ps(q_f16(p + 208))));
            for (int h = 0; h < 2; h++) {
                __m256i ql0 = _mm256_loadu_si256((const __m256i *) (p + 64 * h));
                __m256i ql1 = _mm256_loadu_si256((const __m256i *) (p + 64 * h + 32));
                __m256i qh = _mm256_loadu_si256((const __m256i *) (p + 128 + 32 * h));
                /* per byte: q0 = (ql0 & 15) | (qh & 3) << 4, q1 = (ql1 & 15) | (qh & 12) << 2,
                   q2 = (ql0 >> 4) | (qh & 0x30), q3 = (ql1 >> 4) | (qh >> 2) & 0x30; each minus 32 */
                __m256i q0 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql0, m4),
                        _mm256_and_si256(_mm256_slli_epi16(qh, 4), k30)), k32);
                __m256i q1 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql1, m4),
                        _mm256_and_si256(_mm256_slli_epi16(qh, 2), k30)), k32);
                __m256i q2 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                        _mm256_and_si256(qh, k30)), k32);
                __m256i q3 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                        _mm256_and_si256(_mm256_srli_epi16(qh, 2), k30)), k32);
                for (int half = 0; half < 2; half++) {
                    int l = 16 * half;
                    __m128i c0 = half == 0 ? _mm256_castsi256_si128(q0) : _mm256_extracti128_si256(q0, 1);
                    __m128i c1 = half == 0 ? _mm256_castsi256_si128(q1) : _mm256_extracti128_si256(q1, 1);
                    __m128i c2 = half == 0 ? _mm256_castsi256_si128(q2) : _mm256_extracti128_si256(q2, 1);
                    __m128i c3 = half == 0 ? _mm256_castsi256_si128(q3) : _mm256_extracti128_si256(q3, 1);
                    int e = 128 * h + l;
                    int g = e >> 4;
                    acc0 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(_mm512_cvtepi8_epi32(c0)), _mm512_loadu_ps(xb + e)),
                            _mm512_set1_ps(dsc[g]), acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(_mm512_cvtepi8_epi32(c1)), _mm512_loadu_ps(xb + e + 32)),
                            _mm512_set1_ps(dsc[g + 2]), acc1);
                    acc2 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(_mm512_cvtepi8_epi32(c2)), _mm512_loadu_ps(xb + e + 64)),
                            _mm512_set1_ps(dsc[g + 4]), acc2);
                    acc3 = _mm512_fmadd_ps(_mm512_mul_ps(CVT(_mm512_cvtepi8_epi32(c3)), _mm512_loadu_ps(xb + e + 96)),
                            _mm512_set1_ps(dsc[g + 6]), acc3);
                }
            }
        }
        y[(int64_t) yOff + r] = q_lanes_sum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
    }
    return 0;
}
