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

#include "strata_prefetch_slice.h"

#define STRATA_API __attribute__((visibility("default")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/* Version of the exported signatures; NativeKernels refuses a library with another. */
#define STRATA_KERNELS_ABI 1
#define L 16
/*
 * Software prefetch distance in bytes: a few KiB ahead of the row being read (see f32_row). Never faults. Into L2
 * (T1), not L1: on an Intel Xeon (AMX generation, 2 cores of a VM) the T0 form 4 KiB ahead held a BF16 row stream
 * at 0.6-0.7 of a plain streaming read, worse than no prefetch (0.7), while T1 4-8 KiB ahead gave 0.92-0.97
 * (rows_ab, BF16 1024 and 3584 columns; F16 0.69 -> 0.92, F32 0.80 -> 0.92). The T0 form was tuned on an AMD
 * Zen 4, where it read at 0.9-1.0; T1 has not been measured there.
 */
#define PF 4096
#define PREFETCH(p) _mm_prefetch((const char *) (p), _MM_HINT_T1)

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

/*
 * tree16 of four vectors at once: lane k of the result is tree16(v_k), the same additions with the same operands
 * in the same order, done two vectors to a register (the 256-bit halves of v0 and v1 side by side, then the
 * 128-bit quarters of all four, then pairs and single lanes within each quarter), 5 adds and 8 shuffles for what
 * four tree16 do in 16 adds and 16 extracts; the batch's four row dot products of one input then leave in one
 * 16-byte store instead of four scalar ones.
 */
static inline AVX512 __m128 tree16x4(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
    /* lanes 0-7: v0[i] + v0[i + 8], lanes 8-15: the same of v1 (and of v2, v3) */
    __m512 a = _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 b = _mm512_add_ps(_mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(3, 2, 3, 2)));
    /* quarter k: [i] + [i + 4] of v_k */
    __m512 c = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    /* quarter k, lanes 0 and 1: [i] + [i + 2]; then lane 0: [0] + [1] */
    __m512 d = _mm512_add_ps(c, _mm512_permute_ps(c, _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 e = _mm512_add_ps(d, _mm512_permute_ps(d, _MM_SHUFFLE(1, 1, 1, 1)));
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                                           0, 0), e));
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

/* ---------------------------------------------------------------- batches (prefill) */

/*
 * One weight against count inputs: y[yOff + t * yStride + o] = row o of w . x_t, x_t = x[xOff + t * xStride ..],
 * for o in [from, to), each value bit-identical to the row kernel above (bf16_row, f16_row, f32_row). Why: a
 * prompt's matmuls are compute-bound once a row block sits in cache, and the row kernels do one FMA per weight
 * load and widening; a register tile of R rows x T inputs does R * T FMAs per R weight loads and T x loads.
 *
 * How the bits stay those of the row kernel: a row dot product there is a few independent FMA chains (bf16: e, f
 * over the even L-pair blocks, g, h over the odd ones; f16: e, f over every block; f32: a0..a3 over the blocks
 * of 4L, then the leftover blocks into a0), each adding its blocks in ascending order from zero, and then a fixed
 * combination. A tile runs ONE chain at a time for all its R x T dot products (R * T = 24 accumulators: one
 * chain's blocks in the same ascending order, so each accumulator is exactly that chain's vector; see SEG),
 * keeps the chains, and then combines each dot product's chains exactly as the row kernel does: the same adds,
 * tree16 and scalar tail. A partial tile repeats its last row or input (computed twice, written once).
 *
 * Tiles are 4 rows x 6 inputs, or 8 rows x 3 inputs for a batch's last 1-3 inputs (a 6-input tile for those
 * wasted up to 5/6 of its work: an expert's batch is some 30 inputs, so about a tenth overall).
 *
 * x is copied once per call into this thread's 64-byte-aligned buffer (split into even and odd halves for the
 * 16-bit types), so no load straddles a cache line and the Java side splits nothing. Returns 0, or -1 when that
 * buffer cannot be had (nothing written; the caller runs the row kernels).
 */
#define TA 24
/*
 * Blocks (64 weight bytes each) of a tile's rows taken per pass of its chains: 4 rows and 6 inputs' x of 32
 * blocks (8 + 24 KiB) stay in L1 while the chains pass over them; a wide row (3584 columns) at once did not.
 * The chains' blocks are still added in ascending order, segment after segment.
 */
#define SEG 32

/*
 * acc[r * T + t] += W_r(block k) * x_t(block k) for k = k0, k0 + step, ... < kend, as FMAs in that order,
 * starting from zero instead of acc when fresh (a tile's first segment; tile_init then zeroes nothing: for a
 * 1024-column row, one segment, that saved a quarter of a tile's vector stores, 1.2x the BF16 batch of 3584 x 1024
 * x 30-32 inputs; the chain fully unrolled, or tile_finish's tree16 done for 16 dot products at once, measured no
 * faster: besides the FMAs it is the accumulators' stores that cost). WIDEN turns the 64 weight bytes at p into one
 * float vector; x_t's block k is x[t] + k * L. With more rows than inputs the inputs are loaded first and the rows
 * streamed, else the reverse, so 24 accumulators, the loaded operands and one streamed operand fit the 32
 * registers.
 */
#define TILE_CHAIN(NAME, WIDEN, R, T)                                                                             \
    static AVX512 void NAME(const uint8_t *const *wr, const float *const *xt, int64_t k0, int64_t kend,          \
                            int64_t step, int fresh, __m512 *acc) {                                               \
        const __m512i hiMask = _mm512_set1_epi32((int) 0xFFFF0000);                                               \
        (void) hiMask;                                                                                            \
        const uint8_t *w[R];                                                                                      \
        const float *x[T];                                                                                        \
        __m512 a[R][T];                                                                                           \
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                                     \
            w[r] = wr[r];                                                                                         \
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                                 \
                a[r][t] = fresh ? _mm512_setzero_ps() : acc[r * T + t];                                           \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                                     \
            x[t] = xt[t];                                                                                         \
        }                                                                                                         \
        for (int64_t k = k0; k < kend; k += step) {                                                               \
            int64_t b = k * 64;                                                                                   \
            int64_t i = k * L;                                                                                    \
            if (R <= T) {                                                                                         \
                __m512 v[R];                                                                                      \
                _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                             \
                    v[r] = WIDEN(w[r] + b);                                                                       \
                }                                                                                                 \
                _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                             \
                    __m512 xv = _mm512_load_ps(x[t] + i);                                                         \
                    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                         \
                        a[r][t] = _mm512_fmadd_ps(v[r], xv, a[r][t]);                                             \
                    }                                                                                             \
                }                                                                                                 \
            } else {                                                                                              \
                __m512 xv[T];                                                                                     \
                _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                             \
                    xv[t] = _mm512_load_ps(x[t] + i);                                                             \
                }                                                                                                 \
                _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                             \
                    __m512 v = WIDEN(w[r] + b);                                                                   \
                    _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                         \
                        a[r][t] = _mm512_fmadd_ps(v, xv[t], a[r][t]);                                             \
                    }                                                                                             \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                                                     \
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                                 \
                acc[r * T + t] = a[r][t];                                                                         \
            }                                                                                                     \
        }                                                                                                         \
    }

#define W_BF_LO(p) BF_LO(_mm512_loadu_si512(p))
#define W_BF_HI(p) BF_HI(_mm512_loadu_si512(p))
#define W_F16_LO(p) F16_LO(_mm512_loadu_si512(p))
#define W_F16_HI(p) F16_HI(_mm512_loadu_si512(p))
#define W_F32(p) _mm512_loadu_ps((const float *) (p))

#define TILE_CHAINS(SUFFIX, R, T)                                                                                 \
    TILE_CHAIN(chain_bf_lo_##SUFFIX, W_BF_LO, R, T)                                                               \
    TILE_CHAIN(chain_bf_hi_##SUFFIX, W_BF_HI, R, T)                                                               \
    TILE_CHAIN(chain_f16_lo_##SUFFIX, W_F16_LO, R, T)                                                             \
    TILE_CHAIN(chain_f16_hi_##SUFFIX, W_F16_HI, R, T)                                                             \
    TILE_CHAIN(chain_f32_##SUFFIX, W_F32, R, T)

TILE_CHAINS(4x6, 4, 6)
TILE_CHAINS(8x3, 8, 3)

typedef void (*chain_fn)(const uint8_t *const *, const float *const *, int64_t, int64_t, int64_t, int, __m512 *);

/* A tile shape: rows, inputs, and its chains (bf16 lo, bf16 hi, f16 lo, f16 hi, f32). */
typedef struct {
    int rows;
    int inputs;
    chain_fn chain[5];
} tile_shape;

static const tile_shape SHAPES[2] = {
    {4, 6, {chain_bf_lo_4x6, chain_bf_hi_4x6, chain_f16_lo_4x6, chain_f16_hi_4x6, chain_f32_4x6}},
    {8, 3, {chain_bf_lo_8x3, chain_bf_hi_8x3, chain_f16_lo_8x3, chain_f16_hi_8x3, chain_f32_8x3}},
};

/* The per-call x buffer: count inputs at a stride of `at` floats (a multiple of 16: 64-byte aligned); or NULL. */
static float *batch_x(int64_t count, int64_t at) {
    return tl_reserve((size_t) (count * at));
}

/* Row block of a batch call: rows whose weights (about 96 KiB) stay in L2 while every input passes over them. */
#define BLOCK_KB 96
static inline int32_t batch_rows(int64_t rb) {
    int64_t n = ((int64_t) BLOCK_KB << 10) / rb;
    n = n < 8 ? 8 : n - n % 8;
    return (int32_t) n;
}

/*
 * One tile of a batch: rows o .. o + nr - 1 and inputs t0 .. t0 + nt - 1 of shape sh (nr, nt at most its size),
 * its chains' accumulators acc[4][TA]. type 0 bf16, 1 f16 (x_t's halves at buf + 2 t at and + at), 2 f32 (x_t at
 * buf + t at); n = pairs or columns. tile_init points it at its rows and inputs (zeroing acc only when there is no
 * segment: a first segment starts its chains from zero); tile_segment adds blocks [ks, ke) of every chain
 * (segments in ascending order, so each accumulator is still its chain's blocks in ascending order); tile_finish
 * adds what is left and combines each dot product as the row kernel does.
 */
typedef struct {
    const uint8_t *wr[8];
    int ri[8];
    const float *xe[6], *xo[6];
    int ti[6];
    int nr, nt;
} batch_tile_t;

/* Where the segments end: at block n / L, or for f32 after the last whole group of 4 blocks (tile_finish adds the
   blocks after it to chain 0, as the row kernel does). */
static inline int64_t tile_segments_end(int type, int32_t n) {
    return type == 2 ? (n / (4 * L)) * 4 : n / L;
}

static AVX512 void tile_init(batch_tile_t *tl, __m512 acc[4][TA], int type, const tile_shape *sh, int32_t n,
                             const uint8_t *w, int64_t rb, const float *buf, int64_t at, int32_t o, int nr, int32_t t0,
                             int nt) {
    for (int r = 0; r < sh->rows; r++) {
        tl->ri[r] = o + (r < nr ? r : nr - 1);
        tl->wr[r] = w + (int64_t) tl->ri[r] * rb;
    }
    for (int t = 0; t < sh->inputs; t++) {
        tl->ti[t] = t0 + (t < nt ? t : nt - 1);
        tl->xe[t] = buf + (type == 2 ? 1 : 2) * (int64_t) tl->ti[t] * at;
        tl->xo[t] = tl->xe[t] + at;
    }
    tl->nr = nr;
    tl->nt = nt;
    if (tile_segments_end(type, n) == 0) { /* else the first segment's chains start from zero */
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < TA; i++) {
                acc[c][i] = _mm512_setzero_ps();
            }
        }
    }
}

/* The chains' blocks [ks, ke) of the segment starting at ks (f32: four chains over groups of 4 blocks, up to
   tile_segments_end). */
static AVX512 void tile_segment(const batch_tile_t *tl, __m512 acc[4][TA], int type, const tile_shape *sh,
                                int64_t ks, int64_t ke) {
    int fresh = ks == 0;
    if (type == 0) {
        sh->chain[0](tl->wr, tl->xe, ks, ke, 2, fresh, acc[0]);
        sh->chain[1](tl->wr, tl->xo, ks, ke, 2, fresh, acc[1]);
        sh->chain[0](tl->wr, tl->xe, ks + 1, ke, 2, fresh, acc[2]);
        sh->chain[1](tl->wr, tl->xo, ks + 1, ke, 2, fresh, acc[3]);
    } else if (type == 1) {
        sh->chain[2](tl->wr, tl->xe, ks, ke, 1, fresh, acc[0]);
        sh->chain[3](tl->wr, tl->xo, ks, ke, 1, fresh, acc[1]);
    } else {
        for (int c = 0; c < 4; c++) {
            sh->chain[4](tl->wr, tl->xe, ks + c, ke, 4, fresh, acc[c]);
        }
    }
}

/* Dot product i of a tile before its scalar tail: its chains combined as the row kernel combines them. */
static inline AVX512 __m512 tile_dot(__m512 acc[4][TA], int type, int i) {
    return type == 1 ? _mm512_add_ps(acc[0][i], acc[1][i])
                     : _mm512_add_ps(_mm512_add_ps(acc[0][i], acc[1][i]), _mm512_add_ps(acc[2][i], acc[3][i]));
}

static AVX512 void tile_finish(const batch_tile_t *tl, __m512 acc[4][TA], int type, const tile_shape *sh, int32_t n,
                               float *y, int32_t yOff, int32_t yStride) {
    int64_t nb = n / L;
    if (type == 2) {
        sh->chain[4](tl->wr, tl->xe, tile_segments_end(type, n), nb, 1, 0, acc[0]);
    }
    if (tl->nr == sh->rows && nb * L == n) { /* whole row groups of four, no scalar tail: four sums at a time */
        for (int r = 0; r < tl->nr; r += 4) {
            for (int t = 0; t < tl->nt; t++) {
                int i = r * sh->inputs + t, u = sh->inputs;
                _mm_storeu_ps(y + (int64_t) yOff + (int64_t) tl->ti[t] * yStride + tl->ri[r],
                              tree16x4(tile_dot(acc, type, i), tile_dot(acc, type, i + u),
                                       tile_dot(acc, type, i + 2 * u), tile_dot(acc, type, i + 3 * u)));
            }
        }
        return;
    }
    for (int r = 0; r < tl->nr; r++) {
        const uint8_t *row = tl->wr[r];
        for (int t = 0; t < tl->nt; t++) {
            float s = tree16(tile_dot(acc, type, r * sh->inputs + t));
            const float *e = tl->xe[t], *od = tl->xo[t];
            for (int64_t j = nb * L; j < n; j++) {
                int64_t b = j * 4;
                if (type == 0) {
                    s += bf16_to_f32(load_u16(row + b)) * e[j] + bf16_to_f32(load_u16(row + b + 2)) * od[j];
                } else if (type == 1) {
                    s += f16_to_f32(load_u16(row + b)) * e[j] + f16_to_f32(load_u16(row + b + 2)) * od[j];
                } else {
                    s += load_f32(row + b) * e[j];
                }
            }
            y[(int64_t) yOff + (int64_t) tl->ti[t] * yStride + tl->ri[r]] = s;
        }
    }
}

/* Row tiles of a row block held at once when rows span several segments (accumulators: 4 x 24 vectors, 6 KiB,
   each); with one segment, one (the order is then the same). */
#define BATCH_TILES 4

/*
 * The batch over rows [from, to): row blocks (batch_rows), in each every input tile against every row tile, the
 * next block's weights prefetched into L2 a slice per step (the first input tile otherwise waits on memory: 81
 * against 96 GFLOP/s for 3584 x 1024 with weights from DRAM). Input tiles outside the row blocks (each tile over
 * all rows, weights re-read from L3) measured slower, 82 against 106 for 1024 x 3584. Within an input tile the
 * segments are the outer loop and the block's row tiles the inner one, so the inputs' segment of x (6 x 32 blocks
 * of both halves, 24 KiB) stays in L1 while every row tile passes over it: with the row tile outer, a wide row's
 * inputs (6 x 14 KiB for 3584 columns) came from L2 for every row tile (this order: 1.06-1.09x for 1024 x 3584).
 */
static AVX512 void batch_run(int type, const uint8_t *w, int64_t rb, int32_t n, const float *buf, int64_t at,
                             int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from, int32_t to) {
    int32_t block = batch_rows(rb);
    int64_t segEnd = tile_segments_end(type, n);
    int64_t segs = segEnd > 0 ? (segEnd + SEG - 1) / SEG : 0;
    int64_t passes = segs > 0 ? segs : 1; /* with no segment, one pass still issues the prefetches */
    batch_tile_t tiles[BATCH_TILES];
    __m512 accs[BATCH_TILES][4][TA]; /* 24 KiB on the stack */
    for (int32_t r0 = from; r0 < to; r0 += block) {
        int32_t rend = to - r0 < block ? to : r0 + block;
        int32_t nend = to - rend < block ? to : rend + block;
        const uint8_t *pf = w + (int64_t) rend * rb, *pfEnd = w + (int64_t) nend * rb;
        int64_t steps = 0;
        for (int32_t t0 = 0; t0 < count;) {
            int left = count - t0;
            steps += (rend - r0 + (left >= 4 ? 3 : 7)) / (left >= 4 ? 4 : 8) * passes;
            t0 += left >= 4 ? (left < 6 ? left : 6) : left;
        }
        int64_t slice = steps > 0 ? ((pfEnd - pf) / steps + 63) & ~(int64_t) 63 : 0;
        for (int32_t t0 = 0; t0 < count;) {
            int left = count - t0;
            const tile_shape *sh = &SHAPES[left >= 4 ? 0 : 1];
            int nt = left < sh->inputs ? left : sh->inputs;
            int32_t held = (segs > 1 ? BATCH_TILES : 1) * sh->rows;
            for (int32_t g0 = r0; g0 < rend; g0 += held) { /* row tiles held at once */
                int32_t gend = rend - g0 < held ? rend : g0 + held;
                int ntiles = 0;
                for (int32_t o = g0; o < gend; o += sh->rows, ntiles++) {
                    int nr = gend - o < sh->rows ? gend - o : sh->rows;
                    tile_init(&tiles[ntiles], accs[ntiles], type, sh, n, w, rb, buf, at, o, nr, t0, nt);
                }
                for (int64_t sg = 0; sg < passes; sg++) {
                    int64_t ks = sg * SEG, ke = segEnd - ks < SEG ? segEnd : ks + SEG;
                    for (int k = 0; k < ntiles; k++) {
                        strata_prefetch_slice(&pf, pfEnd, slice);
                        if (segs > 0) {
                            tile_segment(&tiles[k], accs[k], type, sh, ks, ke);
                        }
                    }
                }
                for (int k = 0; k < ntiles; k++) {
                    tile_finish(&tiles[k], accs[k], type, sh, n, y, yOff, yStride);
                }
            }
            t0 += nt;
        }
    }
}

/* The 16-bit batch (bf = 1: BF16, 0: F16): x_t split into halves of at floats each, then batch_run. */
static AVX512 int half_batch(int bf, const uint8_t *w, int32_t pairs, const float *x, int32_t xOff,
                             int32_t xStride, int32_t count, float *y, int32_t yOff, int32_t yStride, int32_t from,
                             int32_t to) {
    int64_t at = ((int64_t) pairs + 15) & ~(int64_t) 15;
    float *buf = batch_x(count, 2 * at);
    if (buf == NULL) {
        return -1;
    }
    for (int32_t t = 0; t < count; t++) {
        const float *xt = x + (int64_t) xOff + (int64_t) t * xStride;
        float *xe = buf + 2 * t * at, *xo = xe + at;
        for (int32_t j = 0; j < pairs; j++) {
            xe[j] = xt[2 * j];
            xo[j] = xt[2 * j + 1];
        }
    }
    batch_run(bf ? 0 : 1, w, (int64_t) pairs * 4, pairs, buf, at, count, y, yOff, yStride, from, to);
    return 0;
}

STRATA_API AVX512 int32_t strata_bf16_batch(const uint8_t *w, int32_t pairs, const float *x, int32_t xOff,
                                            int32_t xStride, int32_t count, float *y, int32_t yOff,
                                            int32_t yStride, int32_t from, int32_t to) {
    return half_batch(1, w, pairs, x, xOff, xStride, count, y, yOff, yStride, from, to);
}

STRATA_API AVX512 int32_t strata_f16_batch(const uint8_t *w, int32_t pairs, const float *x, int32_t xOff,
                                           int32_t xStride, int32_t count, float *y, int32_t yOff,
                                           int32_t yStride, int32_t from, int32_t to) {
    return half_batch(0, w, pairs, x, xOff, xStride, count, y, yOff, yStride, from, to);
}

/* The F32 batch: x_t copied aligned, then batch_run (f32_row's chains and combination, see tile_finish). */
STRATA_API AVX512 int32_t strata_f32_batch(const uint8_t *w, int32_t in, const float *x, int32_t xOff,
                                           int32_t xStride, int32_t count, float *y, int32_t yOff,
                                           int32_t yStride, int32_t from, int32_t to) {
    int64_t at = ((int64_t) in + 15) & ~(int64_t) 15;
    float *buf = batch_x(count, at);
    if (buf == NULL) {
        return -1;
    }
    for (int32_t t = 0; t < count; t++) {
        memcpy(buf + t * at, x + (int64_t) xOff + (int64_t) t * xStride, (size_t) in * 4);
    }
    batch_run(2, w, (int64_t) in * 4, in, buf, at, count, y, yOff, yStride, from, to);
    return 0;
}
