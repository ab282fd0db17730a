/*
 * Native CPU matvec kernels, the bit-identical twins of the Java Vector API row kernels in
 * io.strata.kernels.cpu.VectorMatVec (F32, F16 and BF16 row-major weights; single rows and the fused gate/up
 * pair). Why native: one core streams ~30 GB/s of weights, the Java kernel consumed ~14 GB/s (C2's code for the
 * 16-bit widening and its Vector API fallbacks). Why bit-identical: every determinism test of the runtime
 * (paged vs unpaged, batched vs token-by-token, any thread count) compares bits, so this code does, per row and
 * for Java's lane count L = 16 (512-bit vectors), exactly the float operations of the Java kernel: the same
 * accumulators fed in the same order by fused multiply-adds, the same (a + b) + (c + d) of the accumulators, the
 * same tree of lane additions (lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1: io.strata.kernels.cpu.Lanes) and the same
 * scalar tail (acc += w * x, or acc += we * xe + wo * xo for an element pair, unfused). Built with
 * -ffp-contract=off and written with intrinsics, so the compiler neither fuses nor reassociates anything.
 *
 * The AVX-512 functions carry a target attribute, so the library builds and loads on any x86-64;
 * strata_kernels_supported() says whether this CPU runs them, and the Java side calls nothing else before it.
 * Row o of a weight starts at byte o * rowBytes of w; x, y and the x halves are indexed from an offset, so Java
 * passes whole arrays (heap segments in critical downcalls) without slicing; an output index yOff + o is formed
 * before it is added to the pointer (Java may pass yOff = -from with a staging buffer).
 *
 * To add a kernel: write it here (or in another .c file of this directory: build.sh compiles every *.c), export
 * it with STRATA_API, bump nothing unless an existing signature changes (then STRATA_KERNELS_ABI), and declare
 * its downcall in io.strata.kernels.cpu.NativeKernels.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define STRATA_API __attribute__((visibility("default")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/* Version of the exported signatures; NativeKernels refuses a library with another. */
#define STRATA_KERNELS_ABI 1
#define L 16

STRATA_API int strata_kernels_abi(void) { return STRATA_KERNELS_ABI; }

/* The lane count the kernels reproduce (Java's FloatVector.SPECIES_PREFERRED must have the same). */
STRATA_API int strata_kernels_lanes(void) { return L; }

STRATA_API int strata_kernels_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

/* Lanes tree order: lane 0 of v + v[i ^ 8], + [i ^ 4], + [i ^ 2], + [i ^ 1]. */
static inline AVX512 float tree16(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t) h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline AVX512 float f16_to_f32(uint16_t h) {
    return _cvtsh_ss(h);
}

static inline float load_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

static inline uint16_t load_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* ---------------------------------------------------------------- F32 */

/*
 * VectorMatVec.f32Pair, both rows: four accumulators over blocks of 4L, single vectors into the first,
 * (a0 + a1) + (a2 + a3) in tree order, then the scalar tail.
 */
static inline AVX512 void f32_pair(const uint8_t *r0, const uint8_t *r1, int64_t in, const float *x,
                                   float *out0, float *out1) {
    const float *w0 = (const float *) r0;
    const float *w1 = (const float *) r1;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m512 c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    int64_t i = 0;
    for (; i <= in - 4 * L; i += 4 * L) {
        __m512 x0 = _mm512_loadu_ps(x + i);
        __m512 x1 = _mm512_loadu_ps(x + i + L);
        __m512 x2 = _mm512_loadu_ps(x + i + 2 * L);
        __m512 x3 = _mm512_loadu_ps(x + i + 3 * L);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i), x0, a0);
        c0 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i), x0, c0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i + L), x1, a1);
        c1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i + L), x1, c1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i + 2 * L), x2, a2);
        c2 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i + 2 * L), x2, c2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i + 3 * L), x3, a3);
        c3 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i + 3 * L), x3, c3);
    }
    for (; i <= in - L; i += L) {
        __m512 xi = _mm512_loadu_ps(x + i);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i), xi, a0);
        c0 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i), xi, c0);
    }
    float s0 = tree16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    float s1 = tree16(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)));
    for (; i < in; i++) {
        s0 += load_f32(r0 + i * 4) * x[i];
        s1 += load_f32(r1 + i * 4) * x[i];
    }
    *out0 = s0;
    *out1 = s1;
}

/* y[yOff + o] = row o of w . x[xOff ..] for o in [from, to). */
STRATA_API AVX512 void strata_f32_rows(const uint8_t *w, int32_t in, const float *x, int32_t xOff, float *y,
                                       int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) in * 4;
    x += xOff;
    int32_t o = from;
    for (; o + 1 < to; o += 2) {
        f32_pair(w + o * rb, w + (o + 1) * rb, in, x, y + ((int64_t) yOff + o),
                 y + ((int64_t) yOff + o + 1));
    }
    if (o < to) {
        float unused;
        f32_pair(w + o * rb, w + o * rb, in, x, y + ((int64_t) yOff + o), &unused);
    }
}

/* gate[gOff + o] = row o of w1 . x, up[uOff + o] = row o of w3 . x (the SwiGLU itself stays in Java). */
STRATA_API AVX512 void strata_f32_gateup(const uint8_t *w1, const uint8_t *w3, int32_t in, const float *x,
                                         int32_t xOff, float *gate, int32_t gOff, float *up, int32_t uOff,
                                         int32_t from, int32_t to) {
    int64_t rb = (int64_t) in * 4;
    x += xOff;
    for (int32_t o = from; o < to; o++) {
        f32_pair(w1 + o * rb, w3 + o * rb, in, x, gate + ((int64_t) gOff + o),
                 up + ((int64_t) uOff + o));
    }
}

/* ---------------------------------------------------------------- BF16 */

#define BF_LO(v) _mm512_castsi512_ps(_mm512_slli_epi32((v), 16))
#define BF_HI(v) _mm512_castsi512_ps(_mm512_and_si512((v), hiMask))

/*
 * VectorMatVec.bf16Pair, both rows: per row even/odd accumulators over int vectors j and j + L (e, f, g, h),
 * a last single vector into e and f, (e + f) + (g + h) in tree order, then the pair-wise scalar tail.
 */
static inline AVX512 void bf16_pair(const uint8_t *r0, const uint8_t *r1, int32_t pairs, const float *xe,
                                    const float *xo, float *out0, float *out1) {
    const __m512i hiMask = _mm512_set1_epi32((int) 0xFFFF0000);
    __m512 e0 = _mm512_setzero_ps(), f0 = e0, g0 = e0, h0 = e0;
    __m512 e1 = e0, f1 = e0, g1 = e0, h1 = e0;
    int32_t j = 0;
    for (; j <= pairs - 2 * L; j += 2 * L) {
        __m512 xe0 = _mm512_loadu_ps(xe + j);
        __m512 xo0 = _mm512_loadu_ps(xo + j);
        __m512 xe1 = _mm512_loadu_ps(xe + j + L);
        __m512 xo1 = _mm512_loadu_ps(xo + j + L);
        int64_t off = (int64_t) j * 4;
        __m512i v0 = _mm512_loadu_si512(r0 + off);
        __m512i u0 = _mm512_loadu_si512(r0 + off + 4 * L);
        __m512i v1 = _mm512_loadu_si512(r1 + off);
        __m512i u1 = _mm512_loadu_si512(r1 + off + 4 * L);
        e0 = _mm512_fmadd_ps(BF_LO(v0), xe0, e0);
        f0 = _mm512_fmadd_ps(BF_HI(v0), xo0, f0);
        g0 = _mm512_fmadd_ps(BF_LO(u0), xe1, g0);
        h0 = _mm512_fmadd_ps(BF_HI(u0), xo1, h0);
        e1 = _mm512_fmadd_ps(BF_LO(v1), xe0, e1);
        f1 = _mm512_fmadd_ps(BF_HI(v1), xo0, f1);
        g1 = _mm512_fmadd_ps(BF_LO(u1), xe1, g1);
        h1 = _mm512_fmadd_ps(BF_HI(u1), xo1, h1);
    }
    for (; j <= pairs - L; j += L) {
        __m512 xe0 = _mm512_loadu_ps(xe + j);
        __m512 xo0 = _mm512_loadu_ps(xo + j);
        __m512i v0 = _mm512_loadu_si512(r0 + (int64_t) j * 4);
        __m512i v1 = _mm512_loadu_si512(r1 + (int64_t) j * 4);
        e0 = _mm512_fmadd_ps(BF_LO(v0), xe0, e0);
        f0 = _mm512_fmadd_ps(BF_HI(v0), xo0, f0);
        e1 = _mm512_fmadd_ps(BF_LO(v1), xe0, e1);
        f1 = _mm512_fmadd_ps(BF_HI(v1), xo0, f1);
    }
    float s0 = tree16(_mm512_add_ps(_mm512_add_ps(e0, f0), _mm512_add_ps(g0, h0)));
    float s1 = tree16(_mm512_add_ps(_mm512_add_ps(e1, f1), _mm512_add_ps(g1, h1)));
    for (; j < pairs; j++) {
        int64_t b = (int64_t) j * 4;
        s0 += bf16_to_f32(load_u16(r0 + b)) * xe[j] + bf16_to_f32(load_u16(r0 + b + 2)) * xo[j];
        s1 += bf16_to_f32(load_u16(r1 + b)) * xe[j] + bf16_to_f32(load_u16(r1 + b + 2)) * xo[j];
    }
    *out0 = s0;
    *out1 = s1;
}

/* y[yOff + o] = row o of w . x, x given as its even and odd halves xe[xs ..], xo[xs ..] (pairs each). */
STRATA_API AVX512 void strata_bf16_rows(const uint8_t *w, int32_t pairs, const float *xe, const float *xo,
                                        int32_t xs, float *y, int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) pairs * 4;
    xe += xs;
    xo += xs;
    int32_t o = from;
    for (; o + 1 < to; o += 2) {
        bf16_pair(w + o * rb, w + (o + 1) * rb, pairs, xe, xo, y + ((int64_t) yOff + o),
                  y + ((int64_t) yOff + o + 1));
    }
    if (o < to) {
        float unused;
        bf16_pair(w + o * rb, w + o * rb, pairs, xe, xo, y + ((int64_t) yOff + o), &unused);
    }
}

STRATA_API AVX512 void strata_bf16_gateup(const uint8_t *w1, const uint8_t *w3, int32_t pairs, const float *xe,
                                          const float *xo, int32_t xs, float *gate, int32_t gOff, float *up,
                                          int32_t uOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) pairs * 4;
    xe += xs;
    xo += xs;
    for (int32_t o = from; o < to; o++) {
        bf16_pair(w1 + o * rb, w3 + o * rb, pairs, xe, xo, gate + ((int64_t) gOff + o),
                  up + ((int64_t) uOff + o));
    }
}

/* ---------------------------------------------------------------- F16 */

/* Even (low) and odd (high) halves of each 32-bit lane, widened exactly (F16C). */
#define F16_LO(v) _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v))
#define F16_HI(v) _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32((v), 16)))

/*
 * VectorMatVec.f16Row for two rows at once (the Java kernel computes them one by one; each row's operations are
 * the same): even and odd accumulators e and f over vectors of L pairs, e + f in tree order, the scalar tail.
 * The widening differs from Java's bit trick only in NaN payload handling before the first FMA, which quiets
 * a NaN either way.
 */
static inline AVX512 void f16_pair(const uint8_t *r0, const uint8_t *r1, int32_t pairs, const float *xe,
                                   const float *xo, float *out0, float *out1) {
    __m512 e0 = _mm512_setzero_ps(), f0 = e0, e1 = e0, f1 = e0;
    int32_t j = 0;
    for (; j <= pairs - L; j += L) {
        __m512 xe0 = _mm512_loadu_ps(xe + j);
        __m512 xo0 = _mm512_loadu_ps(xo + j);
        __m512i v0 = _mm512_loadu_si512(r0 + (int64_t) j * 4);
        __m512i v1 = _mm512_loadu_si512(r1 + (int64_t) j * 4);
        e0 = _mm512_fmadd_ps(F16_LO(v0), xe0, e0);
        f0 = _mm512_fmadd_ps(F16_HI(v0), xo0, f0);
        e1 = _mm512_fmadd_ps(F16_LO(v1), xe0, e1);
        f1 = _mm512_fmadd_ps(F16_HI(v1), xo0, f1);
    }
    float s0 = tree16(_mm512_add_ps(e0, f0));
    float s1 = tree16(_mm512_add_ps(e1, f1));
    for (; j < pairs; j++) {
        int64_t b = (int64_t) j * 4;
        s0 += f16_to_f32(load_u16(r0 + b)) * xe[j] + f16_to_f32(load_u16(r0 + b + 2)) * xo[j];
        s1 += f16_to_f32(load_u16(r1 + b)) * xe[j] + f16_to_f32(load_u16(r1 + b + 2)) * xo[j];
    }
    *out0 = s0;
    *out1 = s1;
}

STRATA_API AVX512 void strata_f16_rows(const uint8_t *w, int32_t pairs, const float *xe, const float *xo,
                                       int32_t xs, float *y, int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) pairs * 4;
    xe += xs;
    xo += xs;
    int32_t o = from;
    for (; o + 1 < to; o += 2) {
        f16_pair(w + o * rb, w + (o + 1) * rb, pairs, xe, xo, y + ((int64_t) yOff + o),
                 y + ((int64_t) yOff + o + 1));
    }
    if (o < to) {
        float unused;
        f16_pair(w + o * rb, w + o * rb, pairs, xe, xo, y + ((int64_t) yOff + o), &unused);
    }
}

STRATA_API AVX512 void strata_f16_gateup(const uint8_t *w1, const uint8_t *w3, int32_t pairs, const float *xe,
                                         const float *xo, int32_t xs, float *gate, int32_t gOff, float *up,
                                         int32_t uOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) pairs * 4;
    xe += xs;
    xo += xs;
    for (int32_t o = from; o < to; o++) {
        f16_pair(w1 + o * rb, w3 + o * rb, pairs, xe, xo, gate + ((int64_t) gOff + o),
                 up + ((int64_t) uOff + o));
    }
}
