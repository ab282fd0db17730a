#define _GNU_SOURCE
/*
 * A/B timing of the K-quant decode (rows) kernels, strata_kq8_{q4_k,q5_k,q6_k}_rows, of one or more builds of
 * libstrata_kernels, interleaved round by round (odd rounds in reverse order) in one process: per library, GB/s of
 * weights on one and two threads from memory (256 MiB of rows, each sweep once) and from L2 (256 KiB of rows, swept
 * 1000 times), rows handed out 64 per call as a worker team does. This machine's CPU share swings from minute to
 * minute: compare libraries within one run only. Values are random but valid (finite f16 scales; Q8_K bsums
 * consistent with the codes). Used by scripts/kernel-ab.sh for shapes TYPE:COLS.
 *
 * usage: kq8_rows_ab LIB... -- TYPE COLS ROUNDS           (TYPE: q4_k q5_k q6_k)
 *        kq8_rows_ab check LIB_A LIB_B TYPE               (exit 1 when any output bit differs: widths 256..65536,
 *                                                          odd row ranges, padded rows)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
typedef int32_t (*rows_fn)(const uint8_t *, int64_t, int32_t, const uint8_t *, float *, int32_t, int32_t, int32_t);
static uint64_t rng = 88172645463325252ull;
static uint64_t nx(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static uint16_t f16(float f) { return (uint16_t) _cvtss_sh(f, 0); }
static int bytes_of(const char *t) { return !strcmp(t, "q4_k") ? 144 : !strcmp(t, "q5_k") ? 176 : !strcmp(t, "q6_k") ? 210 : 0; }
static void fill_w(uint8_t *w, int64_t n, int bs, const char *t) {
    for (int64_t i = 0; i < n; i++) w[i] = (uint8_t) nx();
    for (int64_t b = 0; b < n / bs; b++) {
        uint8_t *p = w + b * bs;
        if (bs == 210) { uint16_t h = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p + 208, &h, 2); }
        else { uint16_t h = f16(0.001f + (nx() % 1000) * 1e-5f), m = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p, &h, 2); memcpy(p + 2, &m, 2); }
    }
}
static void fill_x(uint8_t *x, int nb) {
    for (int b = 0; b < nb; b++) {
        uint8_t *p = x + 292 * b; float d = 0.01f + (nx() % 1000) * 1e-4f; memcpy(p, &d, 4);
        int8_t *q = (int8_t *) (p + 4);
        for (int i = 0; i < 256; i++) q[i] = (int8_t) ((int) (nx() % 255) - 127);
        for (int g = 0; g < 16; g++) { int16_t s = 0; for (int i = 0; i < 16; i++) s += q[16 * g + i]; memcpy(p + 260 + 2 * g, &s, 2); }
    }
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
typedef struct { rows_fn f; const uint8_t *w; int64_t rb; int nb; const uint8_t *x; float *y; int from, to, chunk, reps; } job;
static void *runj(void *a) {
    job *j = a;
    for (int r = 0; r < j->reps; r++)
        for (int s = j->from; s < j->to; s += j->chunk) { int e = s + j->chunk < j->to ? s + j->chunk : j->to; j->f(j->w, j->rb, j->nb, j->x, j->y, 0, s, e); }
    return 0;
}
static double bench(rows_fn f, const uint8_t *w, int64_t rb, int nb, const uint8_t *x, float *y, int rows, int threads, int reps) {
    pthread_t t[2]; job j[2]; int chunk = 64;
    double t0 = now();
    for (int k = 0; k < threads; k++) {
        j[k] = (job) {f, w, rb, nb, x, y, rows * k / threads, rows * (k + 1) / threads, chunk, reps};
        if (threads > 1) pthread_create(&t[k], 0, runj, &j[k]); else runj(&j[k]);
    }
    if (threads > 1) for (int k = 0; k < threads; k++) pthread_join(t[k], 0);
    return (double) rows * rb * reps / (now() - t0) / 1e9;
}
static rows_fn load(const char *lib, const char *t) {
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL); if (!h) { fprintf(stderr, "%s\n", dlerror()); exit(1); }
    char name[64]; snprintf(name, sizeof name, "strata_kq8_%s_rows", t);
    return (rows_fn) dlsym(h, name);
}
int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "check") && bytes_of(argv[4])) { /* check LIBA LIBB TYPE */
        rows_fn a = load(argv[2], argv[4]), b = load(argv[3], argv[4]); int bs = bytes_of(argv[4]); long bad = 0, tot = 0;
        int cols[] = {256, 512, 1024, 3584, 4096, 14336, 32768, 33024, 65536};
        for (int ci = 0; ci < 9; ci++) for (int trial = 0; trial < 3; trial++) {
            int nb = cols[ci] / 256, rows = 37; int64_t rb = (int64_t) nb * bs + (trial == 2 ? 16 : 0);
            uint8_t *w = malloc(rb * rows); fill_w(w, rb * rows, bs, argv[4]);
            if (trial == 2) for (int r = 0; r < rows; r++) fill_w(w + r * rb, nb * bs, bs, argv[4]);
            uint8_t *x = malloc(292 * nb); fill_x(x, nb); float ya[64], yb[64];
            int from = trial, to = rows - trial;
            memset(ya, 0, sizeof ya); memset(yb, 0, sizeof yb);
            a(w, rb, nb, x, ya, 3, from, to); b(w, rb, nb, x, yb, 3, from, to);
            for (int r = 0; r < 64; r++) { tot++; if (memcmp(&ya[r], &yb[r], 4)) { if (bad < 5) printf("cols %d row %d: %.9g vs %.9g\n", cols[ci], r, ya[r], yb[r]); bad++; } }
            free(w); free(x);
        }
        printf("%s: %ld of %ld differ\n", argv[4], bad, tot); return bad != 0;
    }
    /* LIB... -- TYPE COLS ROUNDS */
    int nl = 0; const char *libs[8]; int i = 1;
    while (i < argc && strcmp(argv[i], "--") && nl < 8) libs[nl++] = argv[i++];
    if (nl == 0 || i + 3 >= argc || !bytes_of(argv[i + 1]) || atoi(argv[i + 2]) < 256 || atoi(argv[i + 2]) % 256) {
        fprintf(stderr, "usage: kq8_rows_ab LIB... -- q4_k|q5_k|q6_k COLS(multiple of 256) ROUNDS\n"
                        "       kq8_rows_ab check LIB_A LIB_B TYPE\n");
        return 2;
    }
    const char *t = argv[i + 1]; int cols = atoi(argv[i + 2]), rounds = atoi(argv[i + 3]); int bs = bytes_of(t), nb = cols / 256;
    int64_t rb = (int64_t) nb * bs; int rows = (int) ((256ll << 20) / rb), l2rows = (int) ((256ll << 10) / rb);
    uint8_t *w = aligned_alloc(64, (rb * rows + 63) / 64 * 64); fill_w(w, rb * rows, bs, t);
    uint8_t *x = malloc(292 * nb); fill_x(x, nb); float *y = malloc(4 * (size_t) rows);
    rows_fn f[8]; for (int k = 0; k < nl; k++) f[k] = load(libs[k], t);
    for (int r = 0; r < rounds; r++) for (int kk = 0; kk < nl; kk++) {
        int k = r % 2 ? nl - 1 - kk : kk;
        double d1 = bench(f[k], w, rb, nb, x, y, rows, 1, 2), d2 = bench(f[k], w, rb, nb, x, y, rows, 2, 2);
        double l1 = bench(f[k], w, rb, nb, x, y, l2rows, 1, 1000), l2 = bench(f[k], w, rb, nb, x, y, l2rows, 2, 1000);
        printf("round %d %-22s dec1 %6.1f dec2 %6.1f l2dec1 %6.1f l2dec2 %6.1f GB/s\n", r, libs[k], d1, d2, l1, l2);
    }
}
