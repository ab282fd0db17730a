#define _GNU_SOURCE
/*
 * A/B timing of the decode (rows) kernels of one or more builds of libstrata_kernels, interleaved round by round
 * (odd rounds in reverse order) in one process: strata_{f32,bf16,f16}_rows, strata_lq8_q8_0 (one input) and
 * strata_kq8_{q4_k,q5_k,q6_k}_rows.
 * Per round: a plain streaming read of the same bytes (one and two threads: the bound), then per library GB/s of
 * weights on one and two threads from memory (256 MiB of rows, each sweep once) and from L2 (256 KiB of rows, swept
 * 1000 times), rows handed out 64 per call as a worker team does, and the from-memory rates as fractions of the
 * read. This machine's CPU share swings from minute to minute: compare libraries within one run only. Values are
 * random but valid (normal floats; finite f16 scales; Q8_K bsums consistent with the codes). Used by
 * scripts/kernel-ab.sh for shapes TYPE:COLS.
 *
 * usage: rows_ab LIB... -- TYPE COLS ROUNDS      (TYPE: f32 bf16 f16 q8_0 q4_k q5_k q6_k; COLS a multiple of 256)
 *        rows_ab check LIB_A LIB_B TYPE          (exit 1 when any output bit differs: widths 256..65536, odd row
 *                                                 ranges, padded rows)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

typedef int32_t (*kq8_fn)(const uint8_t *, int64_t, int32_t, const uint8_t *, float *, int32_t, int32_t, int32_t);
typedef void (*f32_fn)(const uint8_t *, int32_t, const float *, int32_t, float *, int32_t, int32_t, int32_t);
typedef void (*half_fn)(const uint8_t *, int32_t, const float *, const float *, int32_t, float *, int32_t, int32_t,
                        int32_t);
typedef int32_t (*lq8_fn)(const uint8_t *, int64_t, int32_t, const uint8_t *, int64_t, int32_t, float *, int32_t,
                          int32_t, int32_t, int32_t);
enum kind { F32, HALF, LQ8, KQ8 };
/* One type's shape: bytes per block of BLOCK columns, and how its kernel is called. */
typedef struct { const char *name; enum kind kind; int bytes, block; } type_t;
static const type_t TYPES[] = {{"f32", F32, 4, 1}, {"bf16", HALF, 2, 1}, {"f16", HALF, 2, 1}, {"q8_0", LQ8, 34, 32},
                               {"q4_k", KQ8, 144, 256}, {"q5_k", KQ8, 176, 256}, {"q6_k", KQ8, 210, 256}};
static const type_t *type_of(const char *t) {
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) if (!strcmp(t, TYPES[i].name)) return &TYPES[i];
    return 0;
}
/* A library's kernel for one type, and the input in the form it takes. */
typedef struct { const type_t *t; void *f; int cols; const float *x, *xe, *xo; const uint8_t *xq, *x8; } kernel_t;

static uint64_t rng = 88172645463325252ull;
static uint64_t nx(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static uint16_t f16(float f) { return (uint16_t) _cvtss_sh(f, 0); }
static float unit(void) { return (float) ((int64_t) (nx() % 2000001) - 1000000) * 1e-6f; }
/* n bytes of rows of type t: normal values, finite scales */
static void fill_w(uint8_t *w, int64_t n, const type_t *t) {
    for (int64_t i = 0; i < n; i++) w[i] = (uint8_t) nx();
    if (t->kind == F32) {
        for (int64_t i = 0; i + 4 <= n; i += 4) { float f = unit() + 1.5f * (nx() & 1 ? 1 : -1); memcpy(w + i, &f, 4); }
    } else if (t->kind == HALF) {
        for (int64_t i = 0; i + 2 <= n; i += 2) {
            float f = unit() + 1.5f * (nx() & 1 ? 1 : -1); uint32_t b; memcpy(&b, &f, 4);
            uint16_t h = !strcmp(t->name, "bf16") ? (uint16_t) (b >> 16) : f16(f); memcpy(w + i, &h, 2);
        }
    } else if (t->kind == LQ8) {
        for (int64_t b = 0; b < n / 34; b++) { uint16_t h = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(w + b * 34, &h, 2); }
    } else {
        int bs = t->bytes;
        for (int64_t b = 0; b < n / bs; b++) {
            uint8_t *p = w + b * bs;
            if (bs == 210) { uint16_t h = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p + 208, &h, 2); }
            else { uint16_t h = f16(0.001f + (nx() % 1000) * 1e-5f), m = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p, &h, 2); memcpy(p + 2, &m, 2); }
        }
    }
}
/* The input: x as floats (F32), as even and odd halves (16-bit types), as Q8_K blocks (K-quants), as
   Q8Activations (Q8_0: codes of 16-block groups, then per block its scale, its scale x 128 and its code sum). */
static void fill_x(kernel_t *k, int cols) {
    int nb = cols / 256; float *x = malloc(4 * (size_t) cols), *xe = malloc(2 * (size_t) cols), *xo = malloc(2 * (size_t) cols);
    for (int i = 0; i < cols; i++) x[i] = unit();
    for (int i = 0; i < cols / 2; i++) { xe[i] = x[2 * i]; xo[i] = x[2 * i + 1]; }
    uint8_t *xq = malloc(292 * (size_t) nb);
    for (int b = 0; b < nb; b++) {
        uint8_t *p = xq + 292 * b; float d = 0.01f + (nx() % 1000) * 1e-4f; memcpy(p, &d, 4);
        int8_t *q = (int8_t *) (p + 4);
        for (int i = 0; i < 256; i++) q[i] = (int8_t) ((int) (nx() % 255) - 127);
        for (int g = 0; g < 16; g++) { int16_t s = 0; for (int i = 0; i < 16; i++) s += q[16 * g + i]; memcpy(p + 260 + 2 * g, &s, 2); }
    }
    size_t pad = ((size_t) cols / 32 + 15) & ~(size_t) 15;
    uint8_t *x8 = malloc(pad * 44);
    for (size_t i = 0; i < pad * 32; i++) x8[i] = (uint8_t) nx();
    float *dx = (float *) (x8 + pad * 32); int32_t *xs = (int32_t *) (dx + 2 * pad);
    for (size_t b = 0; b < pad; b++) {
        int32_t sum = 0; for (int e = 0; e < 32; e++) sum += (int8_t) x8[b * 32 + e];
        dx[b] = 0.01f + (nx() % 1000) * 1e-4f; dx[pad + b] = dx[b] * 128; xs[b] = sum;
    }
    k->cols = cols; k->x = x; k->xe = xe; k->xo = xo; k->xq = xq; k->x8 = x8;
}
static int64_t row_bytes(const type_t *t, int cols) { return (int64_t) cols / t->block * t->bytes; }
static void call(const kernel_t *k, const uint8_t *w, int64_t rb, float *y, int32_t yOff, int from, int to) {
    switch (k->t->kind) {
    case F32: ((f32_fn) k->f)(w, k->cols, k->x, 0, y, yOff, from, to); break;
    case HALF: ((half_fn) k->f)(w, k->cols / 2, k->xe, k->xo, 0, y, yOff, from, to); break;
    case LQ8: ((lq8_fn) k->f)(w, rb, k->cols / 32, k->x8, 0, 1, y, yOff, 1, from, to); break;
    case KQ8: ((kq8_fn) k->f)(w, rb, k->cols / 256, k->xq, y, yOff, from, to); break;
    }
}
static void *load(const char *lib, const type_t *t) {
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL); if (!h) { fprintf(stderr, "%s\n", dlerror()); exit(1); }
    char name[64];
    if (t->kind == KQ8) snprintf(name, sizeof name, "strata_kq8_%s_rows", t->name);
    else if (t->kind == LQ8) snprintf(name, sizeof name, "strata_lq8_%s", t->name);
    else snprintf(name, sizeof name, "strata_%s_rows", t->name);
    void *f = dlsym(h, name); if (!f) { fprintf(stderr, "%s: no %s\n", lib, name); exit(1); }
    return f;
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }

typedef struct { const kernel_t *k; const uint8_t *w; int64_t rb; float *y; int from, to, reps; uint64_t sum; } job;
static __attribute__((target("avx512f"))) void *runj(void *a) {
    job *j = a;
    for (int r = 0; r < j->reps; r++) {
        if (!j->k) { /* the streaming read: full-width loads, two sums */
            const uint8_t *p = j->w + (int64_t) j->from * j->rb, *e = j->w + (int64_t) j->to * j->rb;
            __m512i s0 = _mm512_setzero_si512(), s1 = s0;
            for (; p + 128 <= e; p += 128) {
                s0 = _mm512_add_epi64(s0, _mm512_loadu_si512(p));
                s1 = _mm512_add_epi64(s1, _mm512_loadu_si512(p + 64));
            }
            j->sum += (uint64_t) _mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1));
            continue;
        }
        for (int s = j->from; s < j->to; s += 64) call(j->k, j->w, j->rb, j->y, 0, s, s + 64 < j->to ? s + 64 : j->to);
    }
    return 0;
}
static uint64_t sink;
/* GB/s of weights: rows [0, rows) swept reps times on threads threads (k null: the plain read) */
static double bench(const kernel_t *k, const uint8_t *w, int64_t rb, float *y, int rows, int threads, int reps) {
    pthread_t t[2]; job j[2];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        j[i] = (job) {k, w, rb, y, rows * i / threads, rows * (i + 1) / threads, reps, 0};
        if (threads > 1) pthread_create(&t[i], 0, runj, &j[i]); else runj(&j[i]);
    }
    if (threads > 1) for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
    double s = now() - t0;
    for (int i = 0; i < threads; i++) sink += j[i].sum;
    return (double) rows * rb * reps / s / 1e9;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "check") && type_of(argv[4])) { /* check LIBA LIBB TYPE */
        const type_t *t = type_of(argv[4]); kernel_t a = {t, load(argv[2], t)}, b = {t, load(argv[3], t)};
        long bad = 0, tot = 0, zero = 0;
        int cols[] = {256, 512, 1024, 3584, 4096, 14336, 32768, 33024, 65536};
        for (int ci = 0; ci < 9; ci++) for (int trial = 0; trial < 3; trial++) {
            int rows = 37; int64_t rb = row_bytes(t, cols[ci]) + (trial == 2 && t->kind == KQ8 ? 16 : 0);
            uint8_t *w = malloc(rb * rows); fill_w(w, rb * rows, t);
            fill_x(&a, cols[ci]); b.cols = a.cols; b.x = a.x; b.xe = a.xe; b.xo = a.xo; b.xq = a.xq; b.x8 = a.x8;
            float ya[64], yb[64];
            int from = trial, to = rows - trial;
            memset(ya, 0, sizeof ya); memset(yb, 0, sizeof yb);
            call(&a, w, rb, ya, 3, from, to); call(&b, w, rb, yb, 3, from, to);
            for (int r = from; r < to; r++) if (ya[3 + r] == 0) zero++; /* a kernel that wrote nothing compares equal */
            for (int r = 0; r < 64; r++) { tot++; if (memcmp(&ya[r], &yb[r], 4)) { if (bad < 5) printf("cols %d row %d: %.9g vs %.9g\n", cols[ci], r, ya[r], yb[r]); bad++; } }
            free(w); free((void *) a.x); free((void *) a.xe); free((void *) a.xo); free((void *) a.xq); free((void *) a.x8);
        }
        printf("%s: %ld of %ld differ, %ld outputs zero\n", argv[4], bad, tot, zero); return bad != 0 || zero > 0;
    }
    /* LIB... -- TYPE COLS ROUNDS */
    int nl = 0; const char *libs[8]; int i = 1;
    while (i < argc && strcmp(argv[i], "--") && nl < 8) libs[nl++] = argv[i++];
    if (nl == 0 || i + 3 >= argc || !type_of(argv[i + 1]) || atoi(argv[i + 2]) < 256 || atoi(argv[i + 2]) % 256) {
        fprintf(stderr, "usage: rows_ab LIB... -- f32|bf16|f16|q8_0|q4_k|q5_k|q6_k COLS(multiple of 256) ROUNDS\n"
                        "       rows_ab check LIB_A LIB_B TYPE\n");
        return 2;
    }
    const type_t *t = type_of(argv[i + 1]); int cols = atoi(argv[i + 2]), rounds = atoi(argv[i + 3]);
    int64_t rb = row_bytes(t, cols); int rows = (int) ((256ll << 20) / rb), l2rows = (int) ((256ll << 10) / rb);
    uint8_t *w = aligned_alloc(64, (rb * rows + 127) / 128 * 128); fill_w(w, rb * rows, t);
    float *y = malloc(4 * (size_t) rows);
    kernel_t k[8];
    for (int n = 0; n < nl; n++) { k[n].t = t; k[n].f = load(libs[n], t); if (n == 0) fill_x(&k[0], cols); else { void *f = k[n].f; k[n] = k[0]; k[n].f = f; } }
    for (int r = 0; r < rounds; r++) {
        double r1 = bench(0, w, rb, y, rows, 1, 1), r2 = bench(0, w, rb, y, rows, 2, 1);
        printf("round %d %-22s read1  %6.1f read2  %6.1f GB/s\n", r, "(plain read)", r1, r2);
        for (int kk = 0; kk < nl; kk++) {
            int n = r % 2 ? nl - 1 - kk : kk;
            double d1 = bench(&k[n], w, rb, y, rows, 1, 2), d2 = bench(&k[n], w, rb, y, rows, 2, 2);
            double l1 = bench(&k[n], w, rb, y, l2rows, 1, 1000), l2 = bench(&k[n], w, rb, y, l2rows, 2, 1000);
            printf("round %d %-22s dec1 %6.1f (%.2f) dec2 %6.1f (%.2f) l2dec1 %6.1f l2dec2 %6.1f GB/s\n", r, libs[n],
                   d1, d1 / r1, d2, d2 / r2, l1, l2);
        }
    }
    fprintf(stderr, "%s", sink == 42 ? " " : "");
    return 0;
}
