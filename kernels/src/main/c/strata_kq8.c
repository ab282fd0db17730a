/*
 * Int8-activation kernels for the K-quants (Q4_K, Q5_K, Q6_K): the arithmetic llama.cpp's CPU backend uses. x is
 * quantised (in Java, io.strata.kernels.quant.Q8KActivations) to llama.cpp's Q8_K blocks of 256 (f32 d, int8
 * qs[256], int16 bsums[16]; 292 bytes); each weight super-block's dot product with it is an exact integer sum,
 * scaled once per super-block in float. Called through io.strata.kernels.cpu.NativeKQuantInt8 from
 * io.strata.kernels.quant.KQuantInt8, whose Java kernels give the same bits: the canonical arithmetic is defined at
 * the head of KQuantInt8.java and restated here.
 *
 * Per row, 16 int32 lanes per super-block b: element e (0..255) of the block falls into lane
 * lane(e) = 4 ((e & 63) >> 4) + 2 ((e >> 6) & 1) + ((e >> 3) & 1) (what vpdpbusd over 64-byte chunks of codes in
 * element order, vpackssdw of chunks 2m and 2m + 1 and vpmaddwd with the scales give: see kq8_isum).
 *   Q4_K/Q5_K: I[L] = sum over e in lane L of sc[e >> 5] * q[e] * x[e];  F[L] = fma((float) I[L], d * dx, F[L])
 *              J[j] = m[j] * (bsums[2j] + bsums[2j + 1]), j < 8;  G[j] = fma(-(float) J[j], dmin * dx, G[j])
 *   Q6_K:      K[L] = sum over e in lane L of sc[e >> 4] * u[e] * x[e] - 32 * sc[L] * bsums[L]   (u = q + 32)
 *              F[L] = fma((float) K[L], d * dx, F[L])
 * with d, dmin the block's f16 scales as floats, dx the Q8_K block's d, "d * dx" one float multiply; F starts at
 * +0, G too (Q6_K has none: zeros), and the row's value is (((0f + F[0]) + F[1]) + ... + F[15]) + G[0] + ...
 * + G[7]. The integer parts are exact in any order; the float operations are written out (-O3 -ffp-contract=off
 * -fno-fast-math: nothing fused or reassociated unasked).
 *
 * Every entry point returns 0, or -1 when this CPU lacks AVX-512 F/BW/VL/DQ + VNNI (then Java runs). Rows are
 * rowBytes apart; y is indexed y[yOff + r] (batch: y[yOff + i * yStride + r]), the index formed before it is added
 * to the pointer (Java passes yOff = -from with a staging buffer).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "strata_transpose8.h"

#define KQ8_API __attribute__((visibility("default")))
#define KQ8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))
#define KQ8_XB 292 /* bytes of one Q8_K block: f32 d, int8 qs[256], int16 bsums[16] */

static int kq8_supported(void) {
    static int ok = -1;
    if (ok < 0) {
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma")
                && __builtin_cpu_supports("f16c");
    }
    return ok;
}

/* 1 when the rows kernels use the VBMI header (kq8_k_header_vbmi), 0 when not, -1 before the first call. */
static int kq8_vbmi_on = -1;

/* Turns the VBMI header on (where the CPU has AVX-512 VBMI: the default) or off; returns 1 when it is now on. For the
   tests, which check both forms against the Java kernels, bit for bit. */
KQ8_API int strata_kq8_vbmi_header(int on) {
    __builtin_cpu_init();
    int v = on && __builtin_cpu_supports("avx512vbmi");
    __atomic_store_n(&kq8_vbmi_on, v, __ATOMIC_RELAXED);
    return v;
}

static int kq8_vbmi(void) {
    int v = __atomic_load_n(&kq8_vbmi_on, __ATOMIC_RELAXED);
    return v >= 0 ? v : strata_kq8_vbmi_header(1);
}

/* 1 when this CPU runs these kernels (AVX-512 F/BW/VL/DQ, VNNI, FMA, F16C), else 0: Java asks once. */
KQ8_API int strata_kq8_cpu_ok(void) {
    return kq8_supported();
}

/* A weight super-block unpacked for the integer dot product: four 64-element chunks of codes in element order
   (unsigned bytes), the group scales of the packed chunk pairs (0, 1) and (2, 3) as int16 pairs, the per-lane min
   (Q4_K/Q5_K) or 32 * scale (Q6_K) as [value, 0] int16 pairs, and the f16 scales as floats, dd = [d, dmin, 0, 0]
   (Q6_K: [d, 0, 0, 0]): converted together and multiplied by the input's scale together, the same float products
   as one at a time in fewer instructions. */
typedef struct {
    __m512i w[4];
    __m512i s[2];
    __m512i m;
    __m256i mp;
    __m128 dd;
} kq8_blk;

/* A row's float lanes for one input: F (16) and, for the Q4_K/Q5_K mins, G (8). */
typedef struct {
    __m512 f;
    __m256 g;
} kq8_acc;

/* "s = 0f; s += F[i]; s += G[j]" in index order. */
static inline KQ8_TARGET float kq8_lanes_sum(kq8_acc a) {
    float lanes[24];
    _mm512_storeu_ps(lanes, a.f);
    _mm256_storeu_ps(lanes + 16, a.g);
    float s = 0.0f;
    for (int i = 0; i < 24; i++) {
        s += lanes[i];
    }
    return s;
}

/*
 * kq8_lanes_sum of n <= 8 rows' lanes at once (the rows kernel), the same additions in the same order: the 8 x 16 F
 * lanes and then the 8 x 8 G lanes transposed (three rounds of two-source permutes) so that lane k of all eight
 * sits in one 256-bit half, then 16 + 8 vertical adds in lane order. Why: one sequential 24-add chain per row cost
 * about as much as a 1024-wide Q4_K row's integer work (4 super-blocks): 1.2-1.3x the rows kernel on 1024-wide
 * rows. The batch form keeps kq8_lanes_sum: there this was 0.84x at 128 inputs, no gain at 32.
 */
static inline KQ8_TARGET void kq8_sum8(const kq8_acc *acc, int n, float *out) {
    __m512 f[8], g[8], rf[8], rg[8];
    for (int o = 0; o < 8; o++) {
        f[o] = o < n ? acc[o].f : _mm512_setzero_ps();
        g[o] = o < n ? _mm512_castps256_ps512(acc[o].g) : _mm512_setzero_ps();
        g[o] = _mm512_insertf32x8(g[o], _mm256_setzero_ps(), 1);
    }
    strata_transpose8(f, rf);
    strata_transpose8(g, rg);
    __m256 s = _mm256_setzero_ps();
    for (int m = 0; m < 8; m++) {
        s = _mm256_add_ps(s, _mm512_castps512_ps256(rf[m]));
        s = _mm256_add_ps(s, _mm512_extractf32x8_ps(rf[m], 1));
    }
    for (int m = 0; m < 4; m++) {
        s = _mm256_add_ps(s, _mm512_castps512_ps256(rg[m]));
        s = _mm256_add_ps(s, _mm512_extractf32x8_ps(rg[m], 1));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    for (int o = 0; o < n; o++) {
        out[o] = lanes[o];
    }
}

static inline KQ8_TARGET kq8_acc kq8_acc_zero(void) {
    kq8_acc a = {_mm512_setzero_ps(), _mm256_setzero_ps()};
    return a;
}

/* Q4_K/Q5_K: the eight 6-bit scales (byte j of *sc = scale[j]) and mins (*mn) packed at p + 4 as in ggml, and the
   f16 d, dmin as floats [d, dmin, 0, 0]. Both the lanes above and the tile form below decode them here. */
static inline KQ8_TARGET __m128 kq8_k_scales(const uint8_t *p, uint64_t *sc, uint64_t *mn) {
    uint32_t s0, s4, s8;
    memcpy(&s0, p + 4, 4);
    memcpy(&s4, p + 8, 4);
    memcpy(&s8, p + 12, 4);
    uint32_t scLo = s0 & 0x3F3F3F3Fu;
    uint32_t scHi = (s8 & 0x0F0F0F0Fu) | ((s0 >> 2) & 0x30303030u);
    uint32_t mLo = s4 & 0x3F3F3F3Fu;
    uint32_t mHi = ((s8 >> 4) & 0x0F0F0F0Fu) | ((s4 >> 2) & 0x30303030u);
    *sc = ((uint64_t) scHi << 32) | scLo;
    *mn = ((uint64_t) mHi << 32) | mLo;
    uint32_t h;
    memcpy(&h, p, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int) h));
}

/* Q4_K/Q5_K header: d, dmin; scales/mins (kq8_k_scales). s[m]: dword lane 4j + p carries scale[2 (2m + p / 2) +
   j / 2] in both int16 halves (kq8_isum's lanes); m: lane L carries min[L >> 1]. */
static inline KQ8_TARGET void kq8_k_header(const uint8_t *p, kq8_blk *u) {
    uint64_t sc8, mn8;
    u->dd = kq8_k_scales(p, &sc8, &mn8);
    __m512i sc = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long) sc8));
    sc = _mm512_or_si512(sc, _mm512_slli_epi32(sc, 16));
    u->s[0] = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 2, 2, 0, 0, 2, 2, 1, 1, 3, 3, 1, 1, 3, 3), sc);
    u->s[1] = _mm512_permutexvar_epi32(_mm512_setr_epi32(4, 4, 6, 6, 4, 4, 6, 6, 5, 5, 7, 7, 5, 5, 7, 7), sc);
    __m128i m8 = _mm_cvtsi64_si128((long long) mn8);
    u->mp = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(m8, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)));
}

/* kq8_k_header with VBMI byte permutes: the same s[0], s[1] and mp, each one zero-masked vpermb of the scale or min
   bytes (word = byte, 0) instead of widen, shift, or and a dword permute. Why: the header is a fixed cost per
   super-block and row, and the rows kernel on Q4_K is bound by the vector ports (about 26 cycles per super-block and
   row on an Intel Xeon, for 144 bytes); this takes 5 of its vector instructions out. */
#define KQ8V_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,fma,f16c")))
static inline KQ8V_TARGET void kq8_k_header_vbmi(const uint8_t *p, kq8_blk *u) {
    uint64_t sc8, mn8;
    u->dd = kq8_k_scales(p, &sc8, &mn8);
    const __m512i i0 = _mm512_setr_epi32(0, 0, 0x02020202, 0x02020202, 0, 0, 0x02020202, 0x02020202, 0x01010101,
            0x01010101, 0x03030303, 0x03030303, 0x01010101, 0x01010101, 0x03030303, 0x03030303);
    const __m512i i1 = _mm512_add_epi8(i0, _mm512_set1_epi8(4));
    const __m256i im = _mm256_setr_epi32(0, 0x01010101, 0x02020202, 0x03030303, 0x04040404, 0x05050505, 0x06060606,
            0x07070707);
    __m512i sc = _mm512_zextsi128_si512(_mm_cvtsi64_si128((long long) sc8));
    u->s[0] = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, i0, sc);
    u->s[1] = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, i1, sc);
    u->mp = _mm256_maskz_permutexvar_epi8(0x55555555u, im, _mm256_zextsi128_si256(_mm_cvtsi64_si128((long long) mn8)));
}

/* word shift counts: 0 for the low 32 bytes of a chunk (low nibbles), 4 for the high 32 (high nibbles) */
#define KQ8_SH04 _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0x00040004, 0x00040004, 0x00040004, 0x00040004, \
        0x00040004, 0x00040004, 0x00040004, 0x00040004)

/* Q4_K (144 bytes: f16 d, f16 dmin, scales[12], qs[128]): chunk k = qs[32k..32k+31], low nibbles elements
   64k + i, high nibbles 64k + 32 + i. */
static inline KQ8_TARGET void kq8_q4k_codes(const uint8_t *p, __m512i *w) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i sh = KQ8_SH04;
    for (int k = 0; k < 4; k++) {
        __m512i c = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (p + 16 + 32 * k)));
        w[k] = _mm512_and_si512(_mm512_srlv_epi16(c, sh), m4);
    }
}

static inline KQ8_TARGET void kq8_q4k_unpack(const uint8_t *p, kq8_blk *u) {
    kq8_k_header(p, u);
    kq8_q4k_codes(p, u->w);
}

/* Q5_K (176 bytes: d, dmin, scales[12], qh[32], qs[128]): Q4_K's nibbles plus bit 2k (low nibbles) or 2k + 1
   (high nibbles) of qh[i] as bit 4. */
static inline KQ8_TARGET void kq8_q5k_codes(const uint8_t *p, __m512i *w) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i sh = KQ8_SH04;
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (p + 16)));
    for (int k = 0; k < 4; k++) {
        __m512i c = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (p + 48 + 32 * k)));
        __m512i nib = _mm512_and_si512(_mm512_srlv_epi16(c, sh), m4);
        __m512i bits = _mm512_inserti64x4(_mm512_set1_epi8((char) (1 << (2 * k))),
                _mm256_set1_epi8((char) (1 << (2 * k + 1))), 1);
        __mmask64 hb = _mm512_test_epi8_mask(qh, bits);
        w[k] = _mm512_mask_add_epi8(nib, hb, nib, sixteen);
    }
}

static inline KQ8_TARGET void kq8_q5k_unpack(const uint8_t *p, kq8_blk *u) {
    kq8_k_header(p, u);
    kq8_q5k_codes(p, u->w);
}

static inline KQ8V_TARGET void kq8_q4k_unpack_vbmi(const uint8_t *p, kq8_blk *u) {
    kq8_k_header_vbmi(p, u);
    kq8_q4k_codes(p, u->w);
}

static inline KQ8V_TARGET void kq8_q5k_unpack_vbmi(const uint8_t *p, kq8_blk *u) {
    kq8_k_header_vbmi(p, u);
    kq8_q5k_codes(p, u->w);
}

/* Q6_K (210 bytes: ql[128], qh[64], int8 scales[16], f16 d): half h, l < 32: elements 128h + l, +32, +64, +96 are
   ql[64h + l] & 15, ql[64h + 32 + l] & 15, ql[64h + l] >> 4, ql[64h + 32 + l] >> 4, with bits 0-1, 2-3, 4-5, 6-7
   of qh[32h + l] as bits 4-5; u = q + 32 in 0..63. s[m]: dword lane 4j + p carries scale[4 (2m + p / 2) + j];
   m: 32 * scale[L]. */
static inline KQ8_TARGET void kq8_q6k_codes(const uint8_t *p, __m512i *w) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i k30 = _mm512_set1_epi8(0x30);
    const __m512i shA = _mm512_setr_epi32(0x00040004, 0x00040004, 0x00040004, 0x00040004, 0x00040004, 0x00040004,
            0x00040004, 0x00040004, 0x00020002, 0x00020002, 0x00020002, 0x00020002, 0x00020002, 0x00020002,
            0x00020002, 0x00020002);
    const __m512i shB = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0x00020002, 0x00020002, 0x00020002, 0x00020002,
            0x00020002, 0x00020002, 0x00020002, 0x00020002);
    for (int h = 0; h < 2; h++) {
        __m512i ql = _mm512_loadu_si512((const void *) (p + 64 * h));
        __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (p + 128 + 32 * h)));
        __m512i lo = _mm512_and_si512(ql, m4);
        __m512i hi = _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4);
        __m512i hA = _mm512_and_si512(_mm512_sllv_epi16(qh, shA), k30);
        __m512i hB = _mm512_and_si512(_mm512_srlv_epi16(qh, shB), k30);
        w[2 * h] = _mm512_or_si512(lo, hA);
        w[2 * h + 1] = _mm512_or_si512(hi, hB);
    }
}

static inline KQ8_TARGET void kq8_q6k_unpack(const uint8_t *p, kq8_blk *u) {
    kq8_q6k_codes(p, u->w);
    __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (p + 192)));
    u->m = _mm512_and_si512(_mm512_slli_epi32(sc, 5), _mm512_set1_epi32(0xFFFF)); /* [32 sc, 0] as int16 */
    __m512i s2 = _mm512_or_si512(_mm512_and_si512(sc, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(sc, 16));
    u->s[0] = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 4, 4, 1, 1, 5, 5, 2, 2, 6, 6, 3, 3, 7, 7), s2);
    u->s[1] = _mm512_permutexvar_epi32(_mm512_setr_epi32(8, 8, 12, 12, 9, 9, 13, 13, 10, 10, 14, 14, 11, 11, 15, 15),
            s2);
    uint16_t h;
    memcpy(&h, p + 208, 2);
    u->dd = _mm_cvtph_ps(_mm_cvtsi32_si128(h));
}

/*
 * The integer lanes for one Q8_K block's codes qs: per 64-element chunk k, vpdpbusd gives 16 dword sums of 4
 * adjacent products (exact, < 2^15 in magnitude: codes <= 63, |x| <= 128); chunks 2m and 2m + 1 are packed to
 * int16 (vpackssdw: no saturation) and vpmaddwd with the scales adds pairs of them, scaled, into dword lane
 * L = 4j + p of 128-bit lane j: so element e lands in lane 4 ((e & 63) >> 4) + 2 ((e >> 6) & 1) + ((e >> 3) & 1).
 */
static inline KQ8_TARGET __m512i kq8_isum(const kq8_blk *u, const uint8_t *qs) {
    const __m512i z = _mm512_setzero_si512();
    __m512i d0 = _mm512_dpbusd_epi32(z, u->w[0], _mm512_loadu_si512((const void *) qs));
    __m512i d1 = _mm512_dpbusd_epi32(z, u->w[1], _mm512_loadu_si512((const void *) (qs + 64)));
    __m512i d2 = _mm512_dpbusd_epi32(z, u->w[2], _mm512_loadu_si512((const void *) (qs + 128)));
    __m512i d3 = _mm512_dpbusd_epi32(z, u->w[3], _mm512_loadu_si512((const void *) (qs + 192)));
    __m512i a = _mm512_madd_epi16(_mm512_packs_epi32(d0, d1), u->s[0]);
    __m512i b = _mm512_madd_epi16(_mm512_packs_epi32(d2, d3), u->s[1]);
    return _mm512_add_epi32(a, b);
}

/* Q4_K/Q5_K: F = fma(I, d * dx, F); G = fma(-J, dmin * dx, G) with J[j] = m[j] * (bsums[2j] + bsums[2j + 1]) (one
   vpmaddwd of the 16 bsums with the mins as int16 pairs). */
static inline KQ8_TARGET kq8_acc kq8_k_step(const kq8_blk *u, const uint8_t *xb, kq8_acc a) {
    float dx;
    memcpy(&dx, xb, 4);
    __m512i i = kq8_isum(u, xb + 4);
    __m256i j = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (xb + 260)), u->mp);
    __m128 sd = _mm_mul_ps(u->dd, _mm_set1_ps(dx)); /* [d * dx, dmin * dx, ..] */
    a.f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_broadcastss_ps(sd), a.f);
    a.g = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(j), _mm256_broadcastss_ps(_mm_movehdup_ps(sd)), a.g);
    return a;
}

/* Q6_K: F = fma(I - 32 * sc * bsums, d * dx, F) (vpmaddwd: each dword is [bsum, its sign] x [32 sc, 0]). */
static inline KQ8_TARGET kq8_acc kq8_q6_step(const kq8_blk *u, const uint8_t *xb, kq8_acc a) {
    float dx;
    memcpy(&dx, xb, 4);
    __m512i i = kq8_isum(u, xb + 4);
    __m512i j = _mm512_madd_epi16(_mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *) (xb + 260))), u->m);
    a.f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(i, j)), _mm512_broadcastss_ps(_mm_mul_ss(u->dd,
            _mm_set_ss(dx))), a.f);
    return a;
}

/* The batch form: KQ8_RT rows x KQ8_BT blocks unpacked at a time (in L1), applied to each of up to KQ8_IT inputs
   (their float lanes kept in acc between block tiles); each x block is loaded once for the KQ8_RT rows. */
#define KQ8_RT 4
#define KQ8_BT 4
#define KQ8_IT 32

/* How far ahead in the weight stream the rows kernel prefetches (bytes). Why: with the hardware prefetcher alone one
   core read Q4_K rows at about 0.75 of a streaming read while the kernel itself, from L2, ran 1.1-1.4x that fast
   (strata_lq8.c's LQ8_PREFETCH saw the same for Q8_0). Into L2 (T1) as PF in strata_kernels.c: on an Intel Xeon Q6_K
   rows went from 0.77 to 0.87 of a streaming read (Q4_K, compute-bound there, unchanged). The rows kernel takes two
   rows at a time, block by block (each row's operations as alone): with the read-ahead, two streams kept the
   hardware prefetcher (without it, two interleaved Q5_K streams had read 3x slower), and two rows' independent
   work overlaps better with the memory: Q4_K 1024 columns 0.73-0.79 -> 0.81-0.87 of a streaming read on one core,
   Q5_K 3584 0.77-0.81 -> 0.78-0.87 (rows_ab, 6 interleaved rounds, Intel Xeon). */
#ifndef KQ8_PREFETCH
#define KQ8_PREFETCH 16384
#endif

/* The rows kernel's loop, as a function FN with target ATTR: instantiated with and without the VBMI header. */
#define KQ8_ROWS(FN, ATTR, BYTES, UNPACK, STEP)                                                                    \
    static ATTR int32_t FN(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq, float *y,             \
            int32_t yOff, int32_t from, int32_t to) {                                                              \
        kq8_acc done[8]; /* eight rows' lanes, summed together (kq8_sum8) */                                      \
        float sums[8];                                                                                             \
        for (int32_t r0 = from; r0 < to; r0 += 8) {                                                                \
            int n = to - r0 < 8 ? (int) (to - r0) : 8;                                                             \
            for (int j = 0; j < n; j += 2) { /* two rows at once (see KQ8_PREFETCH), an odd last one twice */      \
                const uint8_t *ra = w + (int64_t) (r0 + j) * rowBytes, *rb = j + 1 < n ? ra + rowBytes : ra;       \
                kq8_acc fa = kq8_acc_zero(), fb = kq8_acc_zero();                                                  \
                for (int32_t b = 0; b < nb; b++) {                                                                 \
                    kq8_blk ua, ub;                                                                                \
                    const uint8_t *pa = ra + (int64_t) (BYTES) * b, *pb = rb + (int64_t) (BYTES) * b;              \
                    for (int l = 0; l < (BYTES); l += 64) { /* KQ8_PREFETCH ahead: never faults */                 \
                        _mm_prefetch((const char *) (pa + KQ8_PREFETCH + l), _MM_HINT_T1);                         \
                        _mm_prefetch((const char *) (pb + KQ8_PREFETCH + l), _MM_HINT_T1);                         \
                    }                                                                                              \
                    UNPACK(pa, &ua);                                                                               \
                    UNPACK(pb, &ub);                                                                               \
                    fa = STEP(&ua, xq + (int64_t) KQ8_XB * b, fa);                                                 \
                    fb = STEP(&ub, xq + (int64_t) KQ8_XB * b, fb);                                                 \
                }                                                                                                  \
                done[j] = fa;                                                                                      \
                done[j + 1] = fb; /* done has 8 places: a repeated row's lanes land past n, unused */              \
            }                                                                                                      \
            kq8_sum8(done, n, sums);                                                                               \
            for (int j = 0; j < n; j++) {                                                                          \
                y[(int64_t) yOff + r0 + j] = sums[j];                                                              \
            }                                                                                                      \
        }                                                                                                          \
        return 0;                                                                                                  \
    }                                                                                                              \

/* NAME's rows, batch and tile entry points; UNPACKV: UNPACK's VBMI form (the same unpacked values) for CPUs that
   have VBMI (Intel Ice Lake and later, AMD Zen 4 and later). */
#define KQ8_KERNELS(NAME, BYTES, UNPACK, UNPACKV, STEP)                                                            \
    KQ8_ROWS(kq8_##NAME##_rows_plain, KQ8_TARGET, BYTES, UNPACK, STEP)                                             \
    KQ8_ROWS(kq8_##NAME##_rows_vbmi, KQ8V_TARGET, BYTES, UNPACKV, STEP)                                            \
    KQ8_API KQ8_TARGET int32_t strata_kq8_##NAME##_rows(const uint8_t *w, int64_t rowBytes, int32_t nb,            \
            const uint8_t *xq, float *y, int32_t yOff, int32_t from, int32_t to) {                                  \
        if (!kq8_supported()) {                                                                                    \
            return -1;                                                                                             \
        }                                                                                                          \
        return kq8_vbmi() ? kq8_##NAME##_rows_vbmi(w, rowBytes, nb, xq, y, yOff, from, to)                         \
                : kq8_##NAME##_rows_plain(w, rowBytes, nb, xq, y, yOff, from, to);                                 \
    }                                                                                                              \
    KQ8_API KQ8_TARGET int32_t strata_kq8_##NAME##_batch(const uint8_t *w, int64_t rowBytes, int32_t nb,           \
            const uint8_t *xq, int64_t xqStride, int32_t count, float *y, int32_t yOff, int32_t yStride,            \
            int32_t from, int32_t to) {                                                                            \
        if (!kq8_supported()) {                                                                                    \
            return -1;                                                                                             \
        }                                                                                                          \
        kq8_blk u[KQ8_RT][KQ8_BT];                                                                                 \
        kq8_acc acc[KQ8_RT][KQ8_IT];                                                                               \
        for (int32_t r0 = from; r0 < to; r0 += KQ8_RT) {                                                           \
            int32_t nr = to - r0 < KQ8_RT ? to - r0 : KQ8_RT;                                                      \
            for (int32_t i0 = 0; i0 < count; i0 += KQ8_IT) {                                                       \
                int32_t ni = count - i0 < KQ8_IT ? count - i0 : KQ8_IT;                                            \
                for (int32_t i = 0; i < ni; i++) {                                                                 \
                    for (int rr = 0; rr < KQ8_RT; rr++) {                                                          \
                        acc[rr][i] = kq8_acc_zero();                                                               \
                    }                                                                                              \
                }                                                                                                  \
                for (int32_t b0 = 0; b0 < nb; b0 += KQ8_BT) {                                                      \
                    int32_t nbt = nb - b0 < KQ8_BT ? nb - b0 : KQ8_BT;                                             \
                    for (int rr = 0; rr < KQ8_RT; rr++) { /* a short last tile repeats its last row */             \
                        const uint8_t *row = w + (int64_t) (rr < nr ? r0 + rr : to - 1) * rowBytes;                \
                        for (int32_t j = 0; j < nbt; j++) {                                                        \
                            UNPACK(row + (int64_t) (BYTES) * (b0 + j), &u[rr][j]);                                 \
                        }                                                                                          \
                    }                                                                                              \
                    for (int32_t i = 0; i < ni; i++) { /* each x block loaded once for four rows */                \
                        const uint8_t *xb = xq + (int64_t) (i0 + i) * xqStride + (int64_t) KQ8_XB * b0;            \
                        kq8_acc f0 = acc[0][i], f1 = acc[1][i], f2 = acc[2][i], f3 = acc[3][i];                    \
                        for (int32_t j = 0; j < nbt; j++) {                                                        \
                            const uint8_t *xj = xb + (int64_t) KQ8_XB * j;                                         \
                            f0 = STEP(&u[0][j], xj, f0);                                                           \
                            f1 = STEP(&u[1][j], xj, f1);                                                           \
                            f2 = STEP(&u[2][j], xj, f2);                                                           \
                            f3 = STEP(&u[3][j], xj, f3);                                                           \
                        }                                                                                          \
                        acc[0][i] = f0;                                                                            \
                        acc[1][i] = f1;                                                                            \
                        acc[2][i] = f2;                                                                            \
                        acc[3][i] = f3;                                                                            \
                    }                                                                                              \
                }                                                                                                  \
                for (int rr = 0; rr < nr; rr++) {                                                                  \
                    for (int32_t i = 0; i < ni; i++) {                                                             \
                        y[(int64_t) yOff + (int64_t) (i0 + i) * yStride + r0 + rr] = kq8_lanes_sum(acc[rr][i]);    \
                    }                                                                                              \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
        return 0;                                                                                                  \
    }

KQ8_KERNELS(q4_k, 144, kq8_q4k_unpack, kq8_q4k_unpack_vbmi, kq8_k_step)
KQ8_KERNELS(q5_k, 176, kq8_q5k_unpack, kq8_q5k_unpack_vbmi, kq8_k_step)
KQ8_KERNELS(q6_k, 210, kq8_q6k_unpack, kq8_q6k_unpack, kq8_q6_step) /* no VBMI form */

/*
 * The tile form of the batch (AMX-INT8: Intel Sapphire Rapids and later), for a prompt's worth of inputs. Why: the
 * batch form above keeps the rows kernel's lanes, so that a prompt gives decode's bits, and that costs about 16
 * vector instructions per 256 multiply-adds: prompt processing in Q4_K_M stayed at 2.3-2.5x decode against a 5x
 * target, compute-bound. One tile instruction does 16 x 16 x 64 multiply-adds.
 *
 * So that a super-block is one integer sum on the tile unit, each code is multiplied by its group scale before the
 * dot product (c = q * sc, q Q4_K/Q5_K's unsigned code or Q6_K's signed q = u - 32; |c| <= 4064) and c is split
 * into bytes: c = 256 hi + lo, lo unsigned (tdpbusd with the signed x), hi unsigned for Q4_K/Q5_K and signed for
 * Q6_K (tdpbssd). The arithmetic, per row, input and super-block (another float order than the lanes above: a
 * prompt through this form agrees with decode to float rounding, not bit for bit; each input's bits are
 * independent of the others, of the batch size and of the row split):
 *   I = sum over e of q[e] * sc[group of e] * x[e]           (exact int32: the lo sum + 256 x the hi sum)
 *   F = fma((float) I, d * dx, F)
 *   Q4_K/Q5_K: M = sum over j < 8 of m[j] * (bsums[2j] + bsums[2j + 1])  (exact);  F = fma(-(float) M, dmin * dx, F)
 * with d, dmin the block's f16 scales as floats, dx the Q8_K block's d, "d * dx" one float multiply, F from +0 and
 * the row's value F after the last super-block. KQuantTilesTest restates it in Java.
 *
 * Layout: inputs are taken 16 at a time (a tile's columns) and laid out once per call, per super-block, as the 64
 * dwords of their codes transposed (dword w of input n at byte 64 w + 4 n: K-chunk k's B tile at 1024 k, 64 bytes a
 * row), then their 16 dx, then (Q4_K/Q5_K) (bs[2i], bs[2i + 1]) as int16 pairs, i < 4, 16 dwords each. Rows are
 * taken 16 at a time, each super-block's scaled codes as 256 lo bytes then 256 hi bytes (the A tiles, 512 bytes a
 * row); two inputs' tiles at a time share each A tile: accumulators lo x B0, hi x B0, lo x B1, hi x B1.
 */
#define KT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,fma,f16c," \
        "amx-tile,amx-int8")))
#define KT_XPB (4096 + 64 + 256) /* bytes of one 16-input tile's super-block: codes, dx, bs pairs */

typedef struct {
    float d, dmin;
    int32_t mp[4]; /* (m[2i], m[2i + 1]) as int16 pairs */
    int32_t pad[2];
} kt_head;

typedef struct {
    uint8_t palette, start;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((packed)) kt_config;

/* 1 once this process may use the tile data (the CPU has AMX-TILE and AMX-INT8 and VBMI, the kernel granted
   ARCH_REQ_XCOMP_PERM), with kq8_supported; asked once. */
static int kt_supported(void) {
    static int ok = -1;
    int v = __atomic_load_n(&ok, __ATOMIC_ACQUIRE);
    if (v < 0) {
        v = 0;
        unsigned int a, b, c, d;
        if (kq8_supported() && __builtin_cpu_supports("avx512vbmi") && __get_cpuid_count(7, 0, &a, &b, &c, &d)
                && (d & (1u << 24)) && (d & (1u << 25))) {
            /* ARCH_REQ_XCOMP_PERM (0x1023), XFEATURE_XTILEDATA (18): idempotent, so a race asks twice */
            v = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
        }
        __atomic_store_n(&ok, v, __ATOMIC_RELEASE);
    }
    return v;
}

/* 1 when the tile kernels run here (see kt_supported), else 0. */
KQ8_API int strata_kq8_tiles_ok(void) {
    return kt_supported();
}

/* Per-thread scratch (the callers are a persistent worker team): grown as needed, kept for the thread's life. */
static __thread uint8_t *kt_buf;
static __thread size_t kt_cap;

static uint8_t *kt_scratch(size_t n) {
    if (n > kt_cap) {
        free(kt_buf);
        n = (n + 65535) & ~(size_t) 65535;
        kt_buf = aligned_alloc(64, n);
        kt_cap = kt_buf != NULL ? n : 0;
    }
    return kt_buf;
}

/* Q6_K: one super-block's signed codes (4 x 64 in element order) times their group scales (sc: the 16 groups'
   int8 scales as words) as the A tiles' lo and hi bytes at a and a + 256. */
static inline KT_TARGET void kt_q6scaled(const __m512i *w, __m256i sc, uint8_t *a) {
    const __m512i sc2 = _mm512_zextsi256_si512(sc);
    const __m512i even = _mm512_setr_epi32(0x06040200, 0x0E0C0A08, 0x16141210, 0x1E1C1A18, 0x26242220, 0x2E2C2A28,
            0x36343230, 0x3E3C3A38, 0x46444240, 0x4E4C4A48, 0x56545250, 0x5E5C5A58, 0x66646260, 0x6E6C6A68,
            0x76747270, 0x7E7C7A78);
    const __m512i odd = _mm512_add_epi8(even, _mm512_set1_epi8(1));
    for (int k = 0; k < 4; k++) {
        __m256i lo = _mm512_castsi512_si256(w[k]), hi = _mm512_extracti64x4_epi64(w[k], 1);
        __m512i a0 = _mm512_cvtepi8_epi16(lo), a1 = _mm512_cvtepi8_epi16(hi);
        /* words 0-15 of a0 are group 4k, 16-31 group 4k + 1; a1: 4k + 2, 4k + 3 */
        __m512i i0 = _mm512_inserti64x4(_mm512_set1_epi16((short) (4 * k)), _mm256_set1_epi16((short) (4 * k + 1)), 1);
        __m512i i1 = _mm512_add_epi16(i0, _mm512_set1_epi16(2));
        __m512i p0 = _mm512_mullo_epi16(a0, _mm512_permutexvar_epi16(i0, sc2));
        __m512i p1 = _mm512_mullo_epi16(a1, _mm512_permutexvar_epi16(i1, sc2));
        _mm512_store_si512((void *) (a + 64 * k), _mm512_permutex2var_epi8(p0, even, p1));
        _mm512_store_si512((void *) (a + 256 + 64 * k), _mm512_permutex2var_epi8(p0, odd, p1));
    }
}

/*
 * Q4_K/Q5_K: the codes (unsigned, < 32) times sc[j] (6 bits) as lo and hi bytes with vpmaddubsw, which needs no
 * widening: the even elements' products are pe = maddubs(w, [sc, 0] pairs), the odd ones' po = maddubs(w, [0, sc]),
 * and byte blends interleave them. Why not kt_q6scaled's widening and permutes: those all ran on one port, and this
 * prep is most of the tile form's time when a call has few inputs (an expert's share of a prompt). Also the
 * header: d, dmin and the mins.
 */
static inline KT_TARGET void kt_kscaled(const uint8_t *p, const __m512i *w, uint8_t *a, kt_head *h) {
    uint64_t sc, mn;
    __m128 dd = kq8_k_scales(p, &sc, &mn);
    _mm_storeu_si128((__m128i *) h->mp, _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long) mn)));
    h->d = _mm_cvtss_f32(dd);
    h->dmin = _mm_cvtss_f32(_mm_movehdup_ps(dd));
    __m256i s8v = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long) sc));
    int32_t scd[8]; /* sc[j] in both words */
    _mm256_storeu_si256((__m256i *) scd, _mm256_or_si256(s8v, _mm256_slli_epi32(s8v, 16)));
    const __mmask64 odd = 0xAAAAAAAAAAAAAAAAull;
    for (int k = 0; k < 4; k++) {
        __m512i se = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32(scd[2 * k]), _mm512_set1_epi32(scd[2 * k + 1]));
        __m512i pe = _mm512_maddubs_epi16(w[k], se);
        __m512i po = _mm512_maddubs_epi16(w[k], _mm512_slli_epi16(se, 8));
        _mm512_store_si512((void *) (a + 64 * k), _mm512_mask_blend_epi8(odd, pe, _mm512_slli_epi16(po, 8)));
        _mm512_store_si512((void *) (a + 256 + 64 * k), _mm512_mask_blend_epi8(odd, _mm512_srli_epi16(pe, 8), po));
    }
}

static inline KT_TARGET void kt_prep(int type, const uint8_t *p, uint8_t *a, kt_head *h) {
    __m512i w[4];
    if (type == 6) {
        kq8_q6k_codes(p, w);
        for (int k = 0; k < 4; k++) {
            w[k] = _mm512_sub_epi8(w[k], _mm512_set1_epi8(32));
        }
        uint16_t hd;
        memcpy(&hd, p + 208, 2);
        h->d = _cvtsh_ss(hd);
        h->dmin = 0.0f;
        memset(h->mp, 0, sizeof h->mp);
        kt_q6scaled(w, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *) (p + 192))), a);
        return;
    }
    if (type == 4) {
        kq8_q4k_codes(p, w);
    } else {
        kq8_q5k_codes(p, w);
    }
    kt_kscaled(p, w, a, h);
}

/* 16 x 16 dwords transposed: r[i] lane j = a[j] lane i (four rounds of unpacks and 128-bit shuffles). */
static inline KT_TARGET void kt_transpose16(__m512i *a) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(a[i], a[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(a[i], a[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        a[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        a[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        a[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        a[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) { /* a[4g + i]: rows 4g..4g+3, dword i of each 128-bit lane's 4-row group */
        t[i] = _mm512_shuffle_i32x4(a[i], a[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_i32x4(a[i], a[4 + i], 0xDD);
        t[8 + i] = _mm512_shuffle_i32x4(a[8 + i], a[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_i32x4(a[8 + i], a[12 + i], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        a[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
        a[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xDD);
        a[4 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0x88);
        a[12 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0xDD);
    }
}

/* Inputs [n0, n0 + 16) of count, super-block b, laid out at dst (KT_XPB bytes; missing inputs as zeros). */
static inline KT_TARGET void kt_inputs(const uint8_t *xq, int64_t xqStride, int32_t count, int32_t n0, int32_t b,
        uint8_t *dst) {
    float *dx = (float *) (dst + 4096);
    int32_t *bp = (int32_t *) (dst + 4096 + 64);
    const uint8_t *src[16];
    for (int n = 0; n < 16; n++) {
        src[n] = n0 + n < count ? xq + (int64_t) (n0 + n) * xqStride + (int64_t) KQ8_XB * b : NULL;
    }
    for (int c = 0; c < 4; c++) { /* dwords 16c..16c+15 of each input */
        __m512i a[16];
        for (int n = 0; n < 16; n++) {
            a[n] = src[n] ? _mm512_loadu_si512((const void *) (src[n] + 4 + 64 * c)) : _mm512_setzero_si512();
        }
        kt_transpose16(a);
        for (int i = 0; i < 16; i++) {
            _mm512_store_si512((void *) (dst + 64 * (16 * c + i)), a[i]);
        }
    }
    for (int n = 0; n < 16; n++) {
        if (!src[n]) {
            dx[n] = 0.0f;
            for (int i = 0; i < 4; i++) {
                bp[16 * i + n] = 0;
            }
            continue;
        }
        memcpy(&dx[n], src[n], 4);
        int16_t bs[16];
        memcpy(bs, src[n] + 260, 32);
        for (int i = 0; i < 4; i++) {
            int32_t a = bs[4 * i] + bs[4 * i + 1], c = bs[4 * i + 2] + bs[4 * i + 3];
            bp[16 * i + n] = (int32_t) (((uint32_t) a & 0xFFFF) | ((uint32_t) c << 16));
        }
    }
}

/* The tile batch for type 4 (Q4_K), 5 (Q5_K) or 6 (Q6_K). 0, -1 (no tiles here) or -2 (no scratch memory). */
static inline __attribute__((always_inline)) KT_TARGET int32_t kt_batch(const uint8_t *w, int64_t rowBytes,
        int32_t nb, const uint8_t *xq, int64_t xqStride, int32_t count, float *y, int32_t yOff, int32_t yStride,
        int32_t from, int32_t to, int type) {
    if (!kt_supported()) {
        return -1;
    }
    const int bytes = type == 4 ? 144 : type == 5 ? 176 : 210, mins = type != 6;
    const int32_t nt = (count + 15) / 16;
    size_t xpBytes = (size_t) nt * nb * KT_XPB, wpBytes = (size_t) nb * 16 * 512;
    size_t hdBytes = (size_t) nb * 16 * sizeof(kt_head), cbBytes = 4 * 1024, fbBytes = 16 * 32 * 4;
    uint8_t *base = kt_scratch(xpBytes + wpBytes + hdBytes + cbBytes + fbBytes);
    if (base == NULL) {
        return -2;
    }
    uint8_t *xp = base, *wp = base + xpBytes;
    kt_head *hd = (kt_head *) (wp + wpBytes);
    int32_t *cb = (int32_t *) ((uint8_t *) hd + hdBytes); /* the four accumulators, stored */
    float *fb = (float *) ((uint8_t *) cb + cbBytes);     /* F of [16 rows][32 inputs] */
    for (int32_t t = 0; t < nt; t++) {
        for (int32_t b = 0; b < nb; b++) {
            kt_inputs(xq, xqStride, count, 16 * t, b, xp + ((size_t) t * nb + b) * KT_XPB);
        }
    }
    kt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) {
        cfg.rows[i] = 16;
        cfg.colsb[i] = 64;
    }
    _tile_loadconfig(&cfg);
    for (int32_t r0 = from; r0 < to; r0 += 16) {
        int32_t nr = to - r0 < 16 ? to - r0 : 16;
        for (int32_t b = 0; b < nb; b++) {
            for (int rr = 0; rr < 16; rr++) { /* rows past `to` repeat the last: finite, never written */
                const uint8_t *row = w + (int64_t) (rr < nr ? r0 + rr : to - 1) * rowBytes;
                kt_prep(type, row + (int64_t) bytes * b, wp + ((size_t) b * 16 + rr) * 512, &hd[b * 16 + rr]);
            }
        }
        for (int32_t t0 = 0; t0 < nt; t0 += 2) {
            const int two = t0 + 1 < nt;
            memset(fb, 0, fbBytes);
            for (int32_t b = 0; b < nb; b++) {
                const uint8_t *a = wp + (size_t) b * 16 * 512;
                const uint8_t *x0 = xp + ((size_t) t0 * nb + b) * KT_XPB;
                const uint8_t *x1 = x0 + (size_t) nb * KT_XPB;
                const kt_head *h = &hd[b * 16];
                _tile_zero(0);
                _tile_zero(1);
                if (two) {
                    _tile_zero(2);
                    _tile_zero(3);
                }
                for (int k = 0; k < 4; k++) {
                    _tile_loadd(4, a + 64 * k, 512);
                    _tile_loadd(5, a + 256 + 64 * k, 512);
                    _tile_loadd(6, x0 + 1024 * k, 64);
                    _tile_dpbusd(0, 4, 6);
                    if (type == 6) {
                        _tile_dpbssd(1, 5, 6);
                    } else {
                        _tile_dpbusd(1, 5, 6);
                    }
                    if (two) {
                        _tile_loadd(7, x1 + 1024 * k, 64);
                        _tile_dpbusd(2, 4, 7);
                        if (type == 6) {
                            _tile_dpbssd(3, 5, 7);
                        } else {
                            _tile_dpbusd(3, 5, 7);
                        }
                    }
                }
                _tile_stored(0, cb, 64);
                _tile_stored(1, cb + 256, 64);
                if (two) {
                    _tile_stored(2, cb + 512, 64);
                    _tile_stored(3, cb + 768, 64);
                }
                for (int tt = 0; tt < 1 + two; tt++) {
                    const uint8_t *xt = tt ? x1 : x0;
                    const __m512 dx = _mm512_load_ps((const float *) (xt + 4096));
                    const int32_t *bp = (const int32_t *) (xt + 4096 + 64);
                    const int32_t *lo = cb + 512 * tt, *hi = lo + 256;
                    for (int m = 0; m < 16; m++) {
                        __m512i iv = _mm512_add_epi32(_mm512_load_si512((const void *) (lo + 16 * m)),
                                _mm512_slli_epi32(_mm512_load_si512((const void *) (hi + 16 * m)), 8));
                        float *fp = fb + 32 * m + 16 * tt;
                        __m512 f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iv), _mm512_mul_ps(_mm512_set1_ps(h[m].d), dx),
                                _mm512_load_ps(fp));
                        if (mins) {
                            __m512i mv = _mm512_setzero_si512();
                            for (int i = 0; i < 4; i++) {
                                mv = _mm512_dpwssd_epi32(mv, _mm512_load_si512((const void *) (bp + 16 * i)),
                                        _mm512_set1_epi32(h[m].mp[i]));
                            }
                            f = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mv), _mm512_mul_ps(_mm512_set1_ps(h[m].dmin), dx),
                                    f);
                        }
                        _mm512_store_ps(fp, f);
                    }
                }
            }
            for (int n = 0; n < 16 * (1 + two) && 16 * t0 + n < count; n++) {
                float *yn = y + (int64_t) yOff + (int64_t) (16 * t0 + n) * yStride + r0;
                for (int rr = 0; rr < nr; rr++) {
                    yn[rr] = fb[32 * rr + n];
                }
            }
        }
    }
    _tile_release();
    return 0;
}

/* Entry points: the batch form's arguments (see above); 0, -1 (no tiles here: the caller runs the batch form) or
   -2 (no scratch memory: likewise). */
KQ8_API KT_TARGET int32_t strata_kq8_q4_k_tiles(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq,
        int64_t xqStride, int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from, int32_t to) {
    return kt_batch(w, rowBytes, nb, xq, xqStride, count, y, yOff, yStride, from, to, 4);
}

KQ8_API KT_TARGET int32_t strata_kq8_q5_k_tiles(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq,
        int64_t xqStride, int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from, int32_t to) {
    return kt_batch(w, rowBytes, nb, xq, xqStride, count, y, yOff, yStride, from, to, 5);
}

KQ8_API KT_TARGET int32_t strata_kq8_q6_k_tiles(const uint8_t *w, int64_t rowBytes, int32_t nb, const uint8_t *xq,
        int64_t xqStride, int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from, int32_t to) {
    return kt_batch(w, rowBytes, nb, xq, xqStride, count, y, yOff, yStride, from, to, 6);
}
