/*
 * Native twins of io.strata.kernels.quant.LegacyInt8: the legacy block types (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1)
 * against an activation vector quantised to 8 bits per block of 32 (Q8Activations, in Java; this code only reads
 * its bytes), bound by io.strata.kernels.cpu.NativeLegacyInt8. Why: the float kernels of strata_quant.c spend
 * their time widening and converting codes; an exact integer dot product per block (AVX-512 VNNI vpdpbusd: 64
 * byte products per instruction) and one float scaling per block keep up with the memory.
 *
 * Bit-identical to the Java because the integer sums are exact in any order and the float part is the canonical
 * one of LegacyInt8: t_b = (float) isum_b * (dw_b * dx_b) [+ mw_b * sx_b for Q4_1/Q5_1], acc[b % 16] += t_b from
 * +0f, y = ((0f + acc[0]) + acc[1]) + ... + acc[15]; here 16 blocks at a time in one vector of 16 lanes (lane k
 * is block b0 + k, b0 a multiple of 16), the last nb % 16 blocks one by one into the same lanes. Built with
 * -ffp-contract=off: no multiply-add is fused.
 *
 * vpdpbusd multiplies unsigned by signed bytes: the quantised x codes are the signed side; Q8_0's signed weight
 * codes are biased to unsigned (w ^ 0x80 = w + 128) and 128 * xs_b (xs_b = the sum of the block's x codes) taken
 * off the block's sum; the nibble types' codes are unsigned already, their offsets (8, 16) come off as 8 * xs_b and
 * 16 * xs_b.
 *
 * Input layout (Q8Activations): codes of block b = 4g + k at 128 g + 16 k (elements 0-15) and 128 g + 64 + 16 k
 * (elements 16-31); then dx[], sx[] (floats) and xs[] (ints), each padded to a multiple of 16 entries. Inputs lie
 * xStride bytes apart; output i, row r at y[yOff + i * yStride + r] (formed before it meets the pointer: Java may
 * pass yOff = -from with a staging buffer). Every function returns 0, or -1 (nothing done, Java runs) where the
 * CPU lacks AVX-512 VNNI or VBMI (byte permutes: the nibble types' four-block loads) or the batch form's
 * per-thread buffers cannot be allocated.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strata_prefetch_slice.h"
#include "strata_transpose8.h"

#define STRATA_API __attribute__((visibility("default")))
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,f16c")))
#define INLINE static inline __attribute__((always_inline))

enum { T_Q8_0, T_Q4_0, T_Q5_0, T_Q4_1, T_Q5_1 };

static int lq8_cpu = -1;

static int lq8_supported(void) {
    if (lq8_cpu < 0) {
        __builtin_cpu_init();
        lq8_cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi")
                && __builtin_cpu_supports("f16c");
    }
    return lq8_cpu;
}

/* 1 when this CPU runs these kernels (AVX-512 F/BW/VL/DQ, VNNI, VBMI, F16C), else 0: Java asks once. */
STRATA_API int strata_lq8_cpu_ok(void) {
    return lq8_supported();
}

INLINE int64_t lq8_pad16(int32_t nb) {
    return ((int64_t) nb + 15) & ~(int64_t) 15;
}

/* Q8Activations.code: grouped by four blocks' halves */
INLINE int64_t lq8_code(int32_t b, int j) {
    return 128 * (int64_t) (b >> 2) + 16 * (b & 3) + (j < 16 ? j : 48 + j);
}

INLINE int lq8_block_bytes(int T) {
    return T == T_Q8_0 ? 34 : T == T_Q4_0 ? 18 : T == T_Q5_0 ? 22 : T == T_Q4_1 ? 20 : 24;
}

/* offset of the 16 nibble bytes (or Q8_0's 32 codes) and of qh in a block */
INLINE int lq8_qs(int T) {
    return T == T_Q8_0 ? 2 : T == T_Q4_0 ? 2 : T == T_Q5_0 ? 6 : T == T_Q4_1 ? 4 : 8;
}

INLINE int lq8_qh(int T) {
    return T == T_Q5_0 ? 2 : 4;
}

INLINE VNNI float lq8_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* One block's exact integer sum, scalar (the tail blocks). */
INLINE int32_t lq8_isum(int T, const uint8_t *p, const int8_t *xc, int32_t b, int32_t xs) {
    const int8_t *q0 = xc + lq8_code(b, 0);
    const int8_t *q1 = xc + lq8_code(b, 16);
    int32_t s = 0;
    if (T == T_Q8_0) {
        const int8_t *c = (const int8_t *) (p + 2);
        for (int j = 0; j < 16; j++) {
            s += c[j] * q0[j] + c[16 + j] * q1[j];
        }
        return s;
    }
    const uint8_t *qs = p + lq8_qs(T);
    uint32_t qh = 0;
    if (T == T_Q5_0 || T == T_Q5_1) {
        memcpy(&qh, p + lq8_qh(T), 4);
    }
    for (int j = 0; j < 16; j++) {
        int lo = qs[j] & 0x0F, hi = qs[j] >> 4;
        if (T == T_Q5_0 || T == T_Q5_1) {
            lo |= ((qh >> j) & 1) << 4;
            hi |= ((qh >> (16 + j)) & 1) << 4;
        }
        s += lo * q0[j] + hi * q1[j];
    }
    if (T == T_Q4_0) {
        s -= 8 * xs;
    } else if (T == T_Q5_0) {
        s -= 16 * xs;
    }
    return s;
}

/*
 * Four nibble blocks (b .. b+3 at p, p + bb, ...; 4 bb <= 96 bytes) unsigned codes as two vectors: elements 0-15
 * of block k in 128-bit lane k of *lo, elements 16-31 in lane k of *hi (the x codes' layout). The 16 code bytes of
 * each block are picked from one 128-byte window by vpermt2b (cidx), its second half loaded under a mask so that
 * nothing past the quad is read; the blocks' f16 d (and Q4_1/Q5_1's m) go to bytes 8 k' .. 8 k' + 7 (and 32 + ...)
 * of *dm for the group's k'-th quad (didx, dmask).
 */
INLINE VNNI void lq8_quad(int T, const uint8_t *p, int bb, __m512i cidx, __m512i didx, __m512i hidx,
                          __mmask64 dmask, __m512i *lo, __m512i *hi, __m512i *dm) {
    __m512i a = _mm512_loadu_si512((const void *) p);
    __m512i c = _mm512_maskz_loadu_epi8((__mmask64) ((1ull << (4 * bb - 64)) - 1), (const void *) (p + 64));
    __m512i z = _mm512_permutex2var_epi8(a, cidx, c);
    *dm = _mm512_or_si512(*dm, _mm512_maskz_permutex2var_epi8(dmask, a, didx, c));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i l = _mm512_and_si512(z, m4);
    __m512i h = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
    if (T == T_Q5_0 || T == T_Q5_1) {
        /* the four qh words' low halves (elements 0-15) side by side, then their high halves: two byte masks */
        __m128i hq = _mm512_castsi512_si128(_mm512_permutex2var_epi8(a, hidx, c));
        __mmask64 ml = _cvtu64_mask64((uint64_t) _mm_cvtsi128_si64(hq));
        __mmask64 mh = _cvtu64_mask64((uint64_t) _mm_extract_epi64(hq, 1));
        const __m512i bit4 = _mm512_set1_epi8(0x10);
        l = _mm512_or_si512(l, _mm512_maskz_mov_epi8(ml, bit4));
        h = _mm512_or_si512(h, _mm512_maskz_mov_epi8(mh, bit4));
    }
    *lo = l;
    *hi = h;
}

/*
 * The f16 fields at byte o of 16 consecutive blocks (bb bytes apart) as one vector of halves: scalar loads packed
 * four to a 64-bit word (the integer units are idle here; a vpgatherdd cost a third of the kernel's time).
 */
INLINE VNNI __m256i lq8_halves16(const uint8_t *p, int bb, int o) {
    uint64_t q[4];
    for (int k = 0; k < 4; k++) {
        const uint8_t *b = p + o + (int64_t) bb * 4 * k;
        uint16_t h0, h1, h2, h3;
        memcpy(&h0, b, 2);
        memcpy(&h1, b + bb, 2);
        memcpy(&h2, b + 2 * bb, 2);
        memcpy(&h3, b + 3 * bb, 2);
        q[k] = (uint64_t) h0 | (uint64_t) h1 << 16 | (uint64_t) h2 << 32 | (uint64_t) h3 << 48;
    }
    return _mm256_set_epi64x((long long) q[3], (long long) q[2], (long long) q[1], (long long) q[0]);
}

/* 16 blocks' sums: s[k] (4 lanes per 128-bit lane i = block 4k + i of the group) into lane n = block n. */
INLINE VNNI __m512i lq8_reduce(__m512i s0, __m512i s1, __m512i s2, __m512i s3) {
    __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(s0, s1), _mm512_unpackhi_epi32(s0, s1));
    __m512i c = _mm512_add_epi32(_mm512_unpacklo_epi32(s2, s3), _mm512_unpackhi_epi32(s2, s3));
    __m512i v = _mm512_add_epi32(_mm512_unpacklo_epi64(a, c), _mm512_unpackhi_epi64(a, c));
    /* v: 128-bit lane i, dword m = block 4m + i */
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(idx, v);
}

/* How far ahead of the group being summed its weight rows are prefetched (bytes; measured: 4 KiB 0.8, 16 KiB 0.9+),
   into L2 (T1; on an Intel Xeon 0.81 -> 0.86 of a streaming read against T0, see PF in strata_kernels.c). */
#define LQ8_PREFETCH 16384

/*
 * The canonical final sum, ((0f + lane 0) + lane 1) + ... + lane 15, of n <= 8 vectors at once: the 8 x 16 lanes
 * transposed (three rounds of two-source permutes) so that lane k of all eight sits in one 256-bit half, then 16
 * vertical adds in lane order: each output gets exactly its sequential sum. Why: a batch tile of a 1024-wide row is
 * two 16-block groups, and eight sequential 16-add chains per tile cost about as much as its dot products; the
 * rows kernel (decode) sums eight rows with it too.
 */
INLINE VNNI void lq8_sum8(const __m512 *in, int n, float *out) {
    __m512 a[8], r[8];
    for (int o = 0; o < 8; o++) {
        a[o] = o < n ? in[o] : _mm512_setzero_ps();
    }
    strata_transpose8(a, r);
    __m256 s = _mm256_setzero_ps();
    for (int m = 0; m < 8; m++) {
        s = _mm256_add_ps(s, _mm512_castps512_ps256(r[m]));
        s = _mm256_add_ps(s, _mm512_extractf32x8_ps(r[m], 1));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    for (int o = 0; o < n; o++) {
        out[o] = lanes[o];
    }
}

/*
 * The nibble types' vpermt2b indices (lq8_quad): byte n of a quad's codes is block n / 16's code byte n % 16; byte
 * 8 k + 2 j + e of its d/m vector is block j's d (m from byte 32 on) byte e, for every quad k (a mask picks k's).
 */
INLINE VNNI void lq8_indices(int T, __m512i *cidx, __m512i *didx, __m512i *hidx) {
    const int bb = lq8_block_bytes(T);
    uint8_t ci[64], di[64], hi[64];
    for (int n = 0; n < 64; n++) {
        ci[n] = (uint8_t) ((n >> 4) * bb + lq8_qs(T) + (n & 15));
        int j = (n & 7) >> 1, e = n & 1;
        di[n] = (uint8_t) (j * bb + e + (n >= 32 ? 2 : 0));
        /* Q5: bytes 0-7 the qh bytes 0, 1 of blocks 0-3, bytes 8-15 their bytes 2, 3 */
        hi[n] = (uint8_t) (j * bb + lq8_qh(T) + 2 * ((n >> 3) & 1) + e);
    }
    *cidx = _mm512_loadu_si512((const void *) ci);
    *didx = _mm512_loadu_si512((const void *) di);
    *hidx = _mm512_loadu_si512((const void *) hi);
}

/* One row against one input: the canonical float part over 16-block groups, then the tail; returns the 16 lanes
   (lq8_sum8 adds them up, eight rows at once). */
INLINE VNNI __m512 lq8_row(int T, const uint8_t *row, int32_t nb, const uint8_t *xq, __m512i cidx, __m512i didx,
                          __m512i hidx) {
    const int bb = lq8_block_bytes(T);
    const int64_t pad = lq8_pad16(nb);
    const int8_t *xc = (const int8_t *) xq;
    const float *dx = (const float *) (xq + pad * 32);
    const float *sx = dx + pad;
    const int32_t *xs = (const int32_t *) (sx + pad);
    const __m512i zero = _mm512_setzero_si512();
    __m512 acc = _mm512_setzero_ps();
    int32_t b = 0;
    for (; b + 16 <= nb; b += 16) {
        const uint8_t *p = row + (int64_t) bb * b;
        const int8_t *xg = xc + 32 * (int64_t) b;
        /* the hardware prefetcher alone kept one core at 0.5-0.7 of a streaming read (prefetches never fault) */
        for (int l = 0; l < 16 * bb; l += 64) {
            _mm_prefetch((const char *) (p + LQ8_PREFETCH + l), _MM_HINT_T1);
        }
        __m512i s[4];
        __m512i dm = zero; /* nibble types: the 16 blocks' d (bytes 0-31) and m (32-63) */
        if (T == T_Q8_0) {
            /* two blocks per load pair, regrouped by 128-bit lanes into four blocks' first and second halves */
            const __m512i bias = _mm512_set1_epi8((char) 0x80);
            for (int k = 0; k < 4; k++) {
                const uint8_t *q = p + (int64_t) bb * 4 * k;
                __m512i a = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) (q + 2)));
                a = _mm512_inserti64x4(a, _mm256_loadu_si256((const __m256i *) (q + bb + 2)), 1);
                __m512i c = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) (q + 2 * bb + 2)));
                c = _mm512_inserti64x4(c, _mm256_loadu_si256((const __m256i *) (q + 3 * bb + 2)), 1);
                __m512i lo = _mm512_xor_si512(_mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(2, 0, 2, 0)), bias);
                __m512i hi = _mm512_xor_si512(_mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(3, 1, 3, 1)), bias);
                __m512i d = _mm512_dpbusd_epi32(zero, lo, _mm512_loadu_si512((const void *) (xg + 128 * k)));
                s[k] = _mm512_dpbusd_epi32(d, hi, _mm512_loadu_si512((const void *) (xg + 128 * k + 64)));
            }
        } else {
            __m512i dmv = zero;
            for (int k = 0; k < 4; k++) {
                __m512i lo, hi;
                lq8_quad(T, p + 4 * bb * k, bb, cidx, didx, hidx, (__mmask64) (0x000000FF000000FFull << (8 * k)), &lo,
                         &hi, &dmv);
                __m512i d = _mm512_dpbusd_epi32(zero, lo, _mm512_loadu_si512((const void *) (xg + 128 * k)));
                s[k] = _mm512_dpbusd_epi32(d, hi, _mm512_loadu_si512((const void *) (xg + 128 * k + 64)));
            }
            dm = dmv;
        }
        __m512i isum = lq8_reduce(s[0], s[1], s[2], s[3]);
        __m512i xsum = _mm512_loadu_si512((const void *) (xs + b));
        if (T == T_Q8_0) {
            isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xsum, 7));
        } else if (T == T_Q4_0) {
            isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xsum, 3));
        } else if (T == T_Q5_0) {
            isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xsum, 4));
        }
        __m512 dw = _mm512_cvtph_ps(T == T_Q8_0 ? lq8_halves16(p, bb, 0) : _mm512_castsi512_si256(dm));
        __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_loadu_ps(dx + b)));
        if (T == T_Q4_1 || T == T_Q5_1) {
            __m512 mw = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(dm, 1));
            t = _mm512_add_ps(t, _mm512_mul_ps(mw, _mm512_loadu_ps(sx + b)));
        }
        acc = _mm512_add_ps(acc, t);
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, acc);
    for (; b < nb; b++) {
        const uint8_t *p = row + (int64_t) bb * b;
        int32_t isum = lq8_isum(T, p, xc, b, xs[b]);
        float t = (float) isum * (lq8_f16(p) * dx[b]);
        if (T == T_Q4_1 || T == T_Q5_1) {
            float m = lq8_f16(p + 2) * sx[b];
            t = t + m;
        }
        lanes[b & 15] += t;
    }
    return _mm512_loadu_ps(lanes);
}

/*
 * ---------------------------------------------------------------- batch form
 * Each input's codes, and a tile of rows' weight codes (unpacked once for all inputs: biased or nibble-expanded to
 * unsigned bytes, scales to floats), are transposed per 16-block group G: word k (elements 4k..4k+3) of block n
 * of the group at byte 64 (8 G + k) + 4 n. Then one vpdpbusd accumulates word k of 16 blocks into the 16 lanes
 * that are those blocks: a group's 16 sums come without a reduction, and each weight vector loaded serves 4
 * inputs, each input vector 2 rows. Blocks past nb are zero codes and zero scales: their t is +0, and adding +0
 * to an accumulator that started at +0 changes no bit, so every output is the single form's.
 */
static __thread uint8_t *lq8_xt;
static __thread size_t lq8_xt_size;
static __thread uint8_t *lq8_wt;
static __thread size_t lq8_wt_size;

static uint8_t *lq8_grow(uint8_t **buf, size_t *size, size_t need) {
    if (*size < need) {
        free(*buf);
        size_t n = (need + 63) & ~(size_t) 63;
        *buf = (uint8_t *) aligned_alloc(64, n);
        *size = *buf != NULL ? n : 0;
    }
    return *buf;
}

INLINE uint32_t lq8_ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

INLINE void lq8_st32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}

/* One input's codes (Q8Activations' layout, padded with zero blocks to 16) transposed. */
INLINE void lq8_x_transpose(const uint8_t *src, int32_t nb, uint8_t *dst) {
    int64_t pad = lq8_pad16(nb);
    for (int32_t b = 0; b < pad; b++) {
        uint8_t *o = dst + 512 * (int64_t) (b >> 4) + 4 * (b & 15);
        for (int k = 0; k < 8; k++) {
            lq8_st32(o + 64 * k, lq8_ld32(src + lq8_code(b, 4 * k)));
        }
    }
}

/* Bytes of one unpacked row: transposed codes, then dw[] and mw[] (floats), padded to 16 blocks. */
INLINE int64_t lq8_wrow_bytes(int32_t nb) {
    return lq8_pad16(nb) * 40;
}

/* One row's weight codes as the unsigned bytes vpdpbusd reads, transposed; its scales (and mins) as floats. */
INLINE VNNI void lq8_w_unpack(int T, const uint8_t *row, int32_t nb, uint8_t *dst) {
    int64_t pad = lq8_pad16(nb);
    float *dw = (float *) (dst + pad * 32);
    float *mw = dw + pad;
    const int bb = lq8_block_bytes(T);
    int32_t b0 = 0;
    if (T == T_Q8_0) {
        /* whole groups of 16 blocks in registers: each pair of blocks' 8 code words in one vector, then the 16 x 8
           words transposed by three rounds of two-source permutes (the scalar transposition below was about a
           third of a 32-input batch; gathers were slower still) */
        const __m512i a0 = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
        const __m512i a1 = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
        const __m512i c0 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        const __m512i c1 = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        const __m512i e0 = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 16, 24, 17, 25, 18, 26, 19, 27);
        const __m512i e1 = _mm512_setr_epi32(4, 12, 5, 13, 6, 14, 7, 15, 20, 28, 21, 29, 22, 30, 23, 31);
        const __m512i bias = _mm512_set1_epi32((int) 0x80808080u);
        for (int64_t g = 0; g < nb / 16; g++) {
            const uint8_t *p = row + 34 * 16 * g;
            __m512i z[8], u[8], v[8];
            for (int j = 0; j < 8; j++) { /* lane 8h + k: word k of block 2j + h */
                z[j] = _mm512_inserti64x4(_mm512_castsi256_si512(
                        _mm256_loadu_si256((const __m256i *) (p + 34 * (2 * j) + 2))),
                        _mm256_loadu_si256((const __m256i *) (p + 34 * (2 * j + 1) + 2)), 1);
            }
            for (int j = 0; j < 4; j++) {
                u[2 * j] = _mm512_permutex2var_epi32(z[2 * j], a0, z[2 * j + 1]);
                u[2 * j + 1] = _mm512_permutex2var_epi32(z[2 * j], a1, z[2 * j + 1]);
            }
            for (int j = 0; j < 8; j++) {
                int lo = (j & 4) + (j & 1);
                v[j] = _mm512_permutex2var_epi32(u[lo], (j & 2) ? c1 : c0, u[lo + 2]);
            }
            for (int k = 0; k < 8; k++) { /* lane n: word k of block n */
                __m512i o = _mm512_permutex2var_epi32(v[k & 3], k >= 4 ? e1 : e0, v[(k & 3) + 4]);
                _mm512_store_si512((void *) (dst + 512 * g + 64 * k), _mm512_xor_si512(o, bias));
            }
            /* the 16 scales gathered as halves and widened in one conversion (F16C, as lq8_f16); no mins: Q8_0's
               are never read (scalar, these 16 conversions and 16 + 16 stores cost a third of a 32-input batch's
               time) */
            uint16_t h[16];
            for (int n = 0; n < 16; n++) {
                memcpy(&h[n], p + 34 * n, 2);
            }
            _mm512_storeu_ps(dw + 16 * g, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) h)));
        }
        b0 = nb / 16 * 16;
    }
    for (int32_t b = b0; b < pad; b++) {
        uint8_t *o = dst + 512 * (int64_t) (b >> 4) + 4 * (b & 15);
        if (b >= nb) {
            for (int k = 0; k < 8; k++) {
                lq8_st32(o + 64 * k, 0);
            }
            dw[b] = 0.0f;
            mw[b] = 0.0f;
            continue;
        }
        const uint8_t *p = row + (int64_t) bb * b;
        dw[b] = lq8_f16(p);
        mw[b] = T == T_Q4_1 || T == T_Q5_1 ? lq8_f16(p + 2) : 0.0f;
        if (T == T_Q8_0) {
            for (int k = 0; k < 8; k++) {
                lq8_st32(o + 64 * k, lq8_ld32(p + 2 + 4 * k) ^ 0x80808080u);
            }
            continue;
        }
        const uint8_t *qs = p + lq8_qs(T);
        uint32_t qh = T == T_Q5_0 || T == T_Q5_1 ? lq8_ld32(p + lq8_qh(T)) : 0;
        for (int k = 0; k < 8; k++) {
            uint32_t v = k < 4 ? lq8_ld32(qs + 4 * k) & 0x0F0F0F0Fu : (lq8_ld32(qs + 4 * (k - 4)) >> 4) & 0x0F0F0F0Fu;
            if (T == T_Q5_0 || T == T_Q5_1) {
                uint32_t h = (qh >> (4 * k)) & 0xF; /* elements 4k..4k+3: bits 4k..4k+3 of qh, each to bit 4 */
                v |= (h & 1) << 4 | (h & 2) << 11 | (h & 4) << 18 | (h & 8) << 25;
            }
            lq8_st32(o + 64 * k, v);
        }
    }
}

/*
 * RR unpacked rows (ws bytes apart) against II inputs (transposed codes xts bytes apart; their dx, sx, xs at the
 * inputs themselves, xStride apart): res[i * RR + r].
 */
INLINE VNNI void lq8_mk(int T, int RR, int II, const uint8_t *wt, int64_t ws, const uint8_t *xt, int64_t xts,
                        const uint8_t *xq, int64_t xStride, int32_t nb, float *res) {
    const int64_t pad = lq8_pad16(nb);
    __m512 acc[4][2];
    for (int i = 0; i < II; i++) {
        for (int r = 0; r < RR; r++) {
            acc[i][r] = _mm512_setzero_ps();
        }
    }
    for (int64_t g = 0; g < pad / 16; g++) {
        __m512i s[4][2];
        for (int i = 0; i < II; i++) {
            for (int r = 0; r < RR; r++) {
                s[i][r] = _mm512_setzero_si512();
            }
        }
        for (int k = 0; k < 8; k++) {
            __m512i wv[2], xv[4];
            for (int r = 0; r < RR; r++) {
                wv[r] = _mm512_load_si512((const void *) (wt + r * ws + 64 * (8 * g + k)));
            }
            for (int i = 0; i < II; i++) {
                xv[i] = _mm512_load_si512((const void *) (xt + i * xts + 64 * (8 * g + k)));
            }
            for (int i = 0; i < II; i++) {
                for (int r = 0; r < RR; r++) {
                    s[i][r] = _mm512_dpbusd_epi32(s[i][r], wv[r], xv[i]);
                }
            }
        }
        __m512 dw[2], mw[2];
        for (int r = 0; r < RR; r++) {
            const float *d = (const float *) (wt + r * ws + pad * 32);
            dw[r] = _mm512_load_ps(d + 16 * g);
            mw[r] = T == T_Q4_1 || T == T_Q5_1 ? _mm512_load_ps(d + pad + 16 * g) : _mm512_setzero_ps();
        }
        for (int i = 0; i < II; i++) {
            const float *dx = (const float *) (xq + i * xStride + pad * 32);
            const __m512 dxv = _mm512_loadu_ps(dx + 16 * g);
            const __m512 sxv = _mm512_loadu_ps(dx + pad + 16 * g);
            const __m512i xs = _mm512_loadu_si512((const void *) ((const int32_t *) (dx + 2 * pad) + 16 * g));
            for (int r = 0; r < RR; r++) {
                __m512i isum = s[i][r];
                if (T == T_Q8_0) {
                    isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xs, 7));
                } else if (T == T_Q4_0) {
                    isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xs, 3));
                } else if (T == T_Q5_0) {
                    isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(xs, 4));
                }
                __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw[r], dxv));
                if (T == T_Q4_1 || T == T_Q5_1) {
                    t = _mm512_add_ps(t, _mm512_mul_ps(mw[r], sxv));
                }
                acc[i][r] = _mm512_add_ps(acc[i][r], t);
            }
        }
    }
    __m512 sums[8];
    for (int i = 0; i < II; i++) {
        for (int r = 0; r < RR; r++) {
            sums[i * RR + r] = acc[i][r];
        }
    }
    lq8_sum8(sums, II * RR, res);
}

/* lq8_mk with RR and II as constants (each instance fully unrolled). */
INLINE VNNI void lq8_mk_any(int T, int rr, int ii, const uint8_t *wt, int64_t ws, const uint8_t *xt, int64_t xts,
                            const uint8_t *xq, int64_t xStride, int32_t nb, float *res) {
#define LQ8_MK(R, I) lq8_mk(T, R, I, wt, ws, xt, xts, xq, xStride, nb, res)
    if (rr == 2) {
        switch (ii) {
            case 4: LQ8_MK(2, 4); break;
            case 3: LQ8_MK(2, 3); break;
            case 2: LQ8_MK(2, 2); break;
            default: LQ8_MK(2, 1); break;
        }
    } else {
        switch (ii) {
            case 4: LQ8_MK(1, 4); break;
            case 3: LQ8_MK(1, 3); break;
            case 2: LQ8_MK(1, 2); break;
            default: LQ8_MK(1, 1); break;
        }
    }
#undef LQ8_MK
}

/* Unpacked bytes per tile of rows: the tile and the inputs' codes share L2. */
#define LQ8_TILE_BYTES (256 * 1024)
/* The longest read-ahead slice per tile step worth issuing (lq8_run). */
#define LQ8_SLICE_LINES 8

INLINE VNNI int32_t lq8_run(int T, const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq,
                            int64_t xStride, int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from,
                            int32_t to) {
    if (count == 1) {
        __m512i cidx, didx, hidx;
        lq8_indices(T, &cidx, &didx, &hidx);
        __m512 lanes[8];
        float sums[8];
        for (int32_t r0 = from; r0 < to; r0 += 8) {
            int n = to - r0 < 8 ? to - r0 : 8;
            for (int j = 0; j < n; j++) {
                lanes[j] = lq8_row(T, w + (int64_t) (r0 + j) * rowBytes, nb, xq, cidx, didx, hidx);
            }
            lq8_sum8(lanes, n, sums);
            for (int j = 0; j < n; j++) {
                y[(int64_t) yOff + r0 + j] = sums[j];
            }
        }
        return 0;
    }
    const int64_t ws = lq8_wrow_bytes(nb);
    const int64_t xts = lq8_pad16(nb) * 32;
    int64_t tile = (LQ8_TILE_BYTES / ws) & ~(int64_t) 1;
    if (tile < 2) {
        tile = 2;
    }
    if (tile > to - from) {
        tile = to - from;
    }
    uint8_t *xt = lq8_grow(&lq8_xt, &lq8_xt_size, (size_t) (xts * count));
    uint8_t *wt = lq8_grow(&lq8_wt, &lq8_wt_size, (size_t) (ws * tile));
    if (xt == NULL || wt == NULL) {
        return -1;
    }
    for (int32_t i = 0; i < count; i++) {
        lq8_x_transpose(xq + i * xStride, nb, xt + i * xts);
    }
    for (int32_t r0 = from; r0 < to; r0 += (int32_t) tile) {
        int32_t n = to - r0 < tile ? to - r0 : (int32_t) tile;
        for (int32_t r = 0; r < n; r++) {
            lq8_w_unpack(T, w + (r0 + r) * rowBytes, nb, wt + r * ws);
        }
        /* the next tile's packed rows prefetched into L2 a slice per tile step, so that its unpacking does not wait
           on memory: 1.12-1.16x Q8_0 3584 x 1024 x 32 inputs (5 lines a step), but 0.86x 1024 x 3584 (15 lines a
           step, and 0.94x capped at 4 lines), so only where a slice is at most LQ8_SLICE_LINES */
        int32_t nend = to - (r0 + n) < tile ? to : r0 + n + (int32_t) tile;
        const uint8_t *pf = w + (int64_t) (r0 + n) * rowBytes, *pfEnd = w + (int64_t) nend * rowBytes;
        int64_t steps = (int64_t) ((count + 3) / 4) * ((n + 1) / 2);
        int64_t slice = ((pfEnd - pf) / steps + 63) & ~(int64_t) 63;
        if (slice > LQ8_SLICE_LINES * 64) {
            slice = 0;
        }
        for (int32_t i0 = 0; i0 < count; i0 += 4) {
            int ii = count - i0 < 4 ? count - i0 : 4;
            for (int32_t q = 0; q < n; q += 2) {
                int rr = n - q < 2 ? n - q : 2;
                strata_prefetch_slice(&pf, pfEnd, slice);
                float res[8];
                lq8_mk_any(T, rr, ii, wt + q * ws, ws, xt + i0 * xts, xts, xq + i0 * xStride, xStride, nb, res);
                for (int i = 0; i < ii; i++) {
                    for (int r = 0; r < rr; r++) {
                        y[(int64_t) yOff + (int64_t) (i0 + i) * yStride + r0 + q + r] = res[i * rr + r];
                    }
                }
            }
        }
    }
    return 0;
}

#define LQ8_ENTRY(name, T)                                                                                         \
    static VNNI int32_t name##_vnni(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq,            \
                                    int64_t xStride, int32_t count, float *y, int32_t yOff, int32_t yStride,       \
                                    int32_t from, int32_t to) {                                                    \
        return lq8_run(T, w, rowBytes, nb, xq, xStride, count, y, yOff, yStride, from, to);                        \
    }                                                                                                              \
    STRATA_API int32_t name(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq, int64_t xStride,     \
                            int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from, int32_t to) {    \
        if (!lq8_supported()) {                                                                                    \
            return -1;                                                                                             \
        }                                                                                                          \
        return name##_vnni(w, rowBytes, nb, xq, xStride, count, y, yOff, yStride, from, to);                       \
    }

LQ8_ENTRY(strata_lq8_q8_0, T_Q8_0)
LQ8_ENTRY(strata_lq8_q4_0, T_Q4_0)
LQ8_ENTRY(strata_lq8_q5_0, T_Q5_0)
LQ8_ENTRY(strata_lq8_q4_1, T_Q4_1)
LQ8_ENTRY(strata_lq8_q5_1, T_Q5_1)
