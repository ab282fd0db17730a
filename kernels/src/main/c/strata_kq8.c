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
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

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

/* Q4_K/Q5_K header: d, dmin; scales/mins at p + 4 (6 bits each, packed as in ggml). s[m]: dword lane 4j + p
   carries scale[2 (2m + p / 2) + j / 2] in both int16 halves (kq8_isum's lanes); m: lane L carries min[L >> 1]. */
static inline KQ8_TARGET void kq8_k_header(const uint8_t *p, kq8_blk *u) {
    uint32_t s0, s4, s8;
    memcpy(&s0, p + 4, 4);
    memcpy(&s4, p + 8, 4);
    memcpy(&s8, p + 12, 4);
    uint32_t scLo = s0 & 0x3F3F3F3Fu;
    uint32_t scHi = (s8 & 0x0F0F0F0Fu) | ((s0 >> 2) & 0x30303030u);
    uint32_t mLo = s4 & 0x3F3F3F3Fu;
    uint32_t mHi = ((s8 >> 4) & 0x0F0F0F0Fu) | ((s4 >> 2) & 0x30303030u);
    __m512i sc = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long) (((uint64_t) scHi << 32) | scLo)));
    sc = _mm512_or_si512(sc, _mm512_slli_epi32(sc, 16));
    u->s[0] = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 2, 2, 0, 0, 2, 2, 1, 1, 3, 3, 1, 1, 3, 3), sc);
    u->s[1] = _mm512_permutexvar_epi32(_mm512_setr_epi32(4, 4, 6, 6, 4, 4, 6, 6, 5, 5, 7, 7, 5, 5, 7, 7), sc);
    __m128i m8 = _mm_cvtsi64_si128((long long) (((uint64_t) mHi << 32) | mLo));
    u->mp = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(m8, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)));
    uint32_t h;
    memcpy(&h, p, 4);
    u->dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int) h));
}

/* word shift counts: 0 for the low 32 bytes of a chunk (low nibbles), 4 for the high 32 (high nibbles) */
#define KQ8_SH04 _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0x00040004, 0x00040004, 0x00040004, 0x00040004, \
        0x00040004, 0x00040004, 0x00040004, 0x00040004)

/* Q4_K (144 bytes: f16 d, f16 dmin, scales[12], qs[128]): chunk k = qs[32k..32k+31], low nibbles elements
   64k + i, high nibbles 64k + 32 + i. */
static inline KQ8_TARGET void kq8_q4k_unpack(const uint8_t *p, kq8_blk *u) {
    kq8_k_header(p, u);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i sh = KQ8_SH04;
    for (int k = 0; k < 4; k++) {
        __m512i c = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (p + 16 + 32 * k)));
        u->w[k] = _mm512_and_si512(_mm512_srlv_epi16(c, sh), m4);
    }
}

/* Q5_K (176 bytes: d, dmin, scales[12], qh[32], qs[128]): Q4_K's nibbles plus bit 2k (low nibbles) or 2k + 1
   (high nibbles) of qh[i] as bit 4. */
static inline KQ8_TARGET void kq8_q5k_unpack(const uint8_t *p, kq8_blk *u) {
    kq8_k_header(p, u);
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
        u->w[k] = _mm512_mask_add_epi8(nib, hb, nib, sixteen);
    }
}

/* Q6_K (210 bytes: ql[128], qh[64], int8 scales[16], f16 d): half h, l < 32: elements 128h + l, +32, +64, +96 are
   ql[64h + l] & 15, ql[64h + 32 + l] & 15, ql[64h + l] >> 4, ql[64h + 32 + l] >> 4, with bits 0-1, 2-3, 4-5, 6-7
   of qh[32h + l] as bits 4-5; u = q + 32 in 0..63. s[m]: dword lane 4j + p carries scale[4 (2m + p / 2) + j];
   m: 32 * scale[L]. */
static inline KQ8_TARGET void kq8_q6k_unpack(const uint8_t *p, kq8_blk *u) {
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
        u->w[2 * h] = _mm512_or_si512(lo, hA);
        u->w[2 * h + 1] = _mm512_or_si512(hi, hB);
    }
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

#define KQ8_KERNELS(NAME, BYTES, UNPACK, STEP)                                                                     \
    KQ8_API KQ8_TARGET int32_t strata_kq8_##NAME##_rows(const uint8_t *w, int64_t rowBytes, int32_t nb,            \
            const uint8_t *xq, float *y, int32_t yOff, int32_t from, int32_t to) {                                  \
        if (!kq8_supported()) {                                                                                    \
            return -1;                                                                                             \
        }                                                                                                          \
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

KQ8_KERNELS(q4_k, 144, kq8_q4k_unpack, kq8_k_step)
KQ8_KERNELS(q5_k, 176, kq8_q5k_unpack, kq8_k_step)
KQ8_KERNELS(q6_k, 210, kq8_q6k_unpack, kq8_q6_step)
