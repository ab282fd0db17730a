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
#include <stdlib.h>
#include <string.h>

#define STRATA_API __attribute__((visibility("default")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/* Version of the exported signatures; NativeKernels refuses a library with another. */
#define STRATA_KERNELS_ABI 1
#define L 16
/* Software prefetch distance in bytes: a few KiB ahead of the row being read (see f32_row). Never faults. */
#define PF 4096
#define PREFETCH(p) _mm_prefetch((const char *) (p), _MM_HINT_T0)

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

/*
 * x (or its halves) copied to a 64-byte-aligned buffer of this thread: Java heap arrays start 16 bytes into
 * their object, so every 512-bit load of x straddled two cache lines, which cost a sixth of the streaming rate
 * (measured: 0.72 against 0.85 of a read). The copy is a few KiB per call against a whole row range. One buffer
 * per thread, grown as needed and kept for the thread's life (the JVM's worker threads live as long as it).
 */
static __thread float *tl_buf;
static __thread size_t tl_cap;

/* This thread's buffer of at least n floats, 64-byte aligned; NULL when no memory can be had. */
static float *tl_reserve(size_t n) {
    if (n > tl_cap) {
        size_t cap = n < 2 * tl_cap ? 2 * tl_cap : n;
        float *b = aligned_alloc(64, ((cap * 4 + 63) / 64) * 64);
        if (b == NULL) {
            return NULL;
        }
        free(tl_buf);
        tl_buf = b;
        tl_cap = cap;
    }
    return tl_buf;
}

/* x[0, n) aligned: x itself when it is, else its copy in this thread's buffer (x itself if none). */
static const float *aligned_x(const float *x, int64_t n) {
    if (((uintptr_t) x & 63) == 0) {
        return x;
    }
    float *b = tl_reserve((size_t) n);
    if (b == NULL) {
        return x;
    }
    memcpy(b, x, (size_t) n * 4);
    return b;
}

/* Both halves aligned, copied side by side into this thread's buffer when either is not. */
static void aligned_halves(const float **xe, const float **xo, int64_t pairs) {
    if ((((uintptr_t) *xe | (uintptr_t) *xo) & 63) == 0) {
        return;
    }
    int64_t at = (pairs + 15) & ~(int64_t) 15;
    float *b = tl_reserve((size_t) (2 * at));
    if (b == NULL) {
        return;
    }
    memcpy(b, *xe, (size_t) pairs * 4);
    memcpy(b + at, *xo, (size_t) pairs * 4);
    *xe = b;
    *xo = b + at;
}

/* ---------------------------------------------------------------- F32 */

/*
 * VectorMatVec.f32Pair for one row (the Java kernel computes rows in pairs sharing x; each row's operations are
 * the same): four accumulators over blocks of 4L, single vectors into the first, (a0 + a1) + (a2 + a3) in tree
 * order, then the scalar tail. One row at a time is one sequential stream through the weight, which with the
 * software prefetch PF bytes ahead (into the next row at a row's end) kept a core closest to its streaming-read
 * rate: two rows at once, without prefetch, consumed two thirds of it.
 */
static inline AVX512 float f32_row(const uint8_t *r, int64_t in, const float *x) {
    const float *w = (const float *) r;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i <= in - 4 * L; i += 4 * L) {
        PREFETCH(r + i * 4 + PF);
        PREFETCH(r + i * 4 + PF + 64);
        PREFETCH(r + i * 4 + PF + 128);
        PREFETCH(r + i * 4 + PF + 192);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + L), _mm512_loadu_ps(x + i + L), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 2 * L), _mm512_loadu_ps(x + i + 2 * L), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 3 * L), _mm512_loadu_ps(x + i + 3 * L), a3);
    }
    for (; i <= in - L; i += L) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
    }
    float s = tree16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < in; i++) {
        s += load_f32(r + i * 4) * x[i];
    }
    return s;
}

/* y[yOff + o] = row o of w . x[xOff ..] for o in [from, to). */
STRATA_API AVX512 void strata_f32_rows(const uint8_t *w, int32_t in, const float *x, int32_t xOff, float *y,
                                       int32_t yOff, int32_t from, int32_t to) {
    int64_t rb = (int64_t) in * 4;
    x = aligned_x(x + xOff, in);
    for (int32_t o = from; o < to; o++) {
        y[(int64_t) yOff + o] = f32_row(w + o * rb, in, x);
    }
}

/* gate[gOff + o] = row o of w1 . x, up[uOff + o] = row o of w3 . x (the SwiGLU itself stays in Java). */
STRATA_API AVX512 void strata_f32_gateup(const uint8_t *w1, const uint8_t *w3, int32_t in, const float *x,
                                         int32_t xOff, float *gate, int32_t gOff, float *up, int32_t uOff,
                                         int32_t from, int32_t to) {
    int64_t rb = (int64_t) in * 4;
    x = aligned_x(x + xOff, in);
    for (int32_t o = from; o < to; o++) {
        gate[(int64_t) gOff + o] = f32_row(w1 + o * rb, in, x);
        up[(int64_t) uOff + o] = f32_row(w3 + o * rb, in, x);
    }
}

/* ---------------------------------------------------------------- BF16 */

#define BF_LO(v) _mm512_castsi512_ps(_mm512_slli_epi32((v), 16))
#define BF_HI(v) _mm512_castsi512_ps(_mm512_and_si512((v), hiMask))

/*
 * VectorMatVec.bf16Pair for one row (see f32_row for why one): even/odd accumulators over int vectors j and
 * j + L (e, f, g, h), a last single vector into e and f, (e + f) + (g + h) in tree order, then the pair-wise
 * scalar tail.
 */
static inline AVX512 float bf16_row(const uint8_t *r, int32_t pairs, const float *xe, const float *xo) {
    const __m512i hiMask = _mm512_set1_epi32((int) 0xFFFF0000);
    __m512 e = _mm512_setzero_ps(), f = e, g = e, h = e;
    int32_t j = 0;
    for (; j <= pairs - 2 * L; j += 2 * L) {
        int64_t off = (int64_t) j * 4;
        PREFETCH(r + off + PF);
        PREFETCH(r + off + PF + 64);
        __m512i v = _mm512_loadu_si512(r + off);
        __m512i u = _mm512_loadu_si512(r + off + 4 * L);
        e = _mm512_fmadd_ps(BF_LO(v), _mm512_loadu_ps(xe + j), e);
        f = _mm512_fmadd_ps(BF_HI(v), _mm512_loadu_ps(xo + j), f);
        g = _mm512_fmadd_ps(BF_LO(u), _mm512_loadu_ps(xe + j + L), g);
        h = _mm512_fmadd_ps(BF_HI(u), _mm512_loadu_ps(xo + j + L), h);
    }
    for (; j <= pairs - L; j += L) {
        __m512i v = _mm512_loadu_si512(r + (int64_t) j * 4);
        e = _mm512_fmadd_ps(BF_LO(v), _mm512_loadu_ps(xe + j), e);
        f = _mm512_fmadd_ps(BF_HI(v), _mm512_loadu_ps(xo + j), f);
    }
    float s = tree16(_mm512_add_ps(_mm512_add_ps(e, f), _mm512_add_ps(g, h)));
    for (; j < pairs; j++) {
        int64_t b = (int64_t) j * 4;
        s += bf16_to_f32(load_u16(r + b)) * xe[j] + bf16_to_f32(load_u16(r + b + 2)) * xo[j];
    }
    return s;
}

/*
 * The exported row and fused gate/up kernels of a 16-bit type whose row dot product is ROW, x given as its even
 * and odd halves xe[xs ..], xo[xs ..] (pairs each): y[yOff + o] = row o of w . x; gate and up the rows of w1 and
 * w3 (no SwiGLU); o in [from, to).
 */
#define HALF_KERNELS(NAME, ROW)                                                                                   \
    STRATA_API AVX512 void strata_##NAME##_rows(const uint8_t *w, int32_t pairs, const float *xe, const float *xo, \
                                                int32_t xs, float *y, int32_t yOff, int32_t from, int32_t to) {    \
        int64_t rb = (int64_t) pairs * 4;                                                                         \
        xe += xs;                                                                                                 \
        xo += xs;                                                                                                 \
        aligned_halves(&xe, &xo, pairs);                                                                          \
        for (int32_t o = from; o < to; o++) {                                                                     \
            y[(int64_t) yOff + o] = ROW(w + o * rb, pairs, xe, xo);                                               \
        }                                                                                                         \
    }                                                                                                             \
    STRATA_API AVX512 void strata_##NAME##_gateup(const uint8_t *w1, const uint8_t *w3, int32_t pairs,            \
                                                  const float *xe, const float *xo, int32_t xs, float *gate,      \
                                                  int32_t gOff, float *up, int32_t uOff, int32_t from,            \
                                                  int32_t to) {                                                   \
        int64_t rb = (int64_t) pairs * 4;                                                                         \
        xe += xs;                                                                                                 \
        xo += xs;                                                                                                 \
        aligned_halves(&xe, &xo, pairs);                                                                          \
        for (int32_t o = from; o < to; o++) {                                                                     \
            gate[(int64_t) gOff + o] = ROW(w1 + o * rb, pairs, xe, xo);                                           \
            up[(int64_t) uOff + o] = ROW(w3 + o * rb, pairs, xe, xo);                                             \
        }                                                                                                         \
    }

HALF_KERNELS(bf16, bf16_row)

/* ---------------------------------------------------------------- F16 */

/* Even (low) and odd (high) halves of each 32-bit lane, widened exactly (F16C). */
#define F16_LO(v) _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v))
#define F16_HI(v) _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32((v), 16)))

/*
 * VectorMatVec.f16Row: even and odd accumulators e and f over vectors of L pairs, e + f in tree order, the scalar
 * tail. The widening differs from Java's bit trick only in a signalling NaN's quiet bit before the first FMA,
 * which quiets a NaN either way.
 */
static inline AVX512 float f16_row(const uint8_t *r, int32_t pairs, const float *xe, const float *xo) {
    __m512 e = _mm512_setzero_ps(), f = e;
    int32_t j = 0;
    for (; j <= pairs - L; j += L) {
        int64_t off = (int64_t) j * 4;
        PREFETCH(r + off + PF);
        __m512i v = _mm512_loadu_si512(r + off);
        e = _mm512_fmadd_ps(F16_LO(v), _mm512_loadu_ps(xe + j), e);
        f = _mm512_fmadd_ps(F16_HI(v), _mm512_loadu_ps(xo + j), f);
    }
    float s = tree16(_mm512_add_ps(e, f));
    for (; j < pairs; j++) {
        int64_t b = (int64_t) j * 4;
        s += f16_to_f32(load_u16(r + b)) * xe[j] + f16_to_f32(load_u16(r + b + 2)) * xo[j];
    }
    return s;
}

HALF_KERNELS(f16, f16_row)
