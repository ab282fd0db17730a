/*
 * The K-quant tile form (strata_kq8_{q4_k,q5_k,q6_k}_tiles, AMX) against the batch form (_batch) of one build of
 * libstrata_kernels: random but valid weights (finite f16 scales) and Q8_K inputs (bsums consistent with the
 * codes); prints the largest |tiles - batch| as a fraction of the largest |y| (float rounding: ~1e-7), checks that
 * a row range leaves the other rows untouched, then times both forms ROUNDS times (GMAC/s, and batch time / tiles
 * time). With a second library, times the tile forms of the two instead, alternating, and prints the median
 * ratio B/A. This machine's CPU share swings: compare within one run.
 *
 * build: gcc -O2 -mf16c -o tiles_ab kernels/src/test/c/tiles_ab.c -ldl -lm
 * usage: tiles_ab LIB TYPE ROWS COLS COUNT ROUNDS [LIB_B]   (TYPE q4_k q5_k q6_k; COLS a multiple of 256)
 *   e.g. tiles_ab kernels/target/classes/native/linux-x86_64/libstrata_kernels.so q4_k 3584 1024 32 5
 */
#include <dlfcn.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef int32_t (*bfn)(const uint8_t *, int64_t, int32_t, const uint8_t *, int64_t, int32_t, float *, int32_t, int32_t, int32_t, int32_t);
static uint64_t rng = 88172645463325252ull;
static uint64_t nx(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static uint16_t f16(float f) { return (uint16_t) _cvtss_sh(f, 0); }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: tiles_ab LIB q4_k|q5_k|q6_k ROWS COLS COUNT ROUNDS [LIB_B]\n"); return 2; }
    const char *lib = argv[1], *type = argv[2]; int rows = atoi(argv[3]), cols = atoi(argv[4]), count = atoi(argv[5]), reps = atoi(argv[6]);
    int bs = !strcmp(type, "q4_k") ? 144 : !strcmp(type, "q5_k") ? 176 : 210;
    void *h = dlopen(lib, RTLD_NOW); if (!h) { puts(dlerror()); return 1; }
    char n1[64], n2[64]; snprintf(n1, 64, "strata_kq8_%s_batch", type); snprintf(n2, 64, "strata_kq8_%s_tiles", type);
    bfn vb = (bfn) dlsym(h, n1), tl = (bfn) dlsym(h, n2);
    int nb = cols / 256; int64_t rb = (int64_t) nb * bs;
    uint8_t *w = aligned_alloc(64, (rb * rows + 63) / 64 * 64);
    for (int64_t i = 0; i < rb * rows; i++) w[i] = (uint8_t) nx();
    for (int64_t b = 0; b < (int64_t) nb * rows; b++) {
        uint8_t *p = w + b * bs;
        if (bs == 210) { uint16_t hh = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p + 208, &hh, 2); }
        else { uint16_t hh = f16(0.001f + (nx() % 1000) * 1e-5f), m = f16(0.001f + (nx() % 1000) * 1e-5f); memcpy(p, &hh, 2); memcpy(p + 2, &m, 2); }
    }
    int64_t xs = 292 * nb; uint8_t *xq = malloc(xs * count);
    for (int i = 0; i < count * nb; i++) {
        uint8_t *p = xq + 292 * i; float d = 0.01f + (nx() % 1000) * 1e-4f; memcpy(p, &d, 4);
        int8_t *q = (int8_t *) (p + 4);
        for (int e = 0; e < 256; e++) q[e] = (int8_t) ((int) (nx() % 255) - 127);
        for (int g = 0; g < 16; g++) { int16_t s = 0; for (int e = 0; e < 16; e++) s += q[16 * g + e]; memcpy(p + 260 + 2 * g, &s, 2); }
    }
    float *ya = calloc((size_t) rows * count, 4), *yb = calloc((size_t) rows * count, 4);
    int rc1 = vb(w, rb, nb, xq, xs, count, ya, 0, rows, 0, rows);
    int rc2 = tl(w, rb, nb, xq, xs, count, yb, 0, rows, 0, rows);
    double maxabs = 0, scale = 0; int zeros = 0;
    for (int64_t i = 0; i < (int64_t) rows * count; i++) { scale = fmax(scale, fabs(ya[i])); }
    for (int64_t i = 0; i < (int64_t) rows * count; i++) { double d = fabs(ya[i] - yb[i]); maxabs = fmax(maxabs, d); if (yb[i] == 0) zeros++; }
    printf("%s %dx%d count %d: rc %d %d, max |diff| %.3g of max |y| %.3g (%.2g), zeros %d\n", type, rows, cols, count, rc1, rc2, maxabs, scale, maxabs / scale, zeros);
    /* sub-range check: rows [5, rows-3) with offset */
    float *yc = calloc((size_t) rows * count, 4);
    tl(w, rb, nb, xq, xs, count, yc, 0, rows, 5, rows - 3);
    int bad = 0; for (int i = 0; i < count; i++) for (int r = 0; r < rows; r++) { float e = (r >= 5 && r < rows - 3) ? yb[i * rows + r] : 0; if (memcmp(&e, &yc[i * rows + r], 4)) bad++; }
    printf("row range bits differ: %d\n", bad);
    if (argc > 7) { /* A/B: argv[7] is a second library; alternate its tiles with the first's */
        void *h2 = dlopen(argv[7], RTLD_NOW); bfn t2 = (bfn) dlsym(h2, n2);
        double ra[1024]; int nr = 0;
        for (int round = 0; round < reps && nr < 1024; round++) {
            double t0 = now(); tl(w, rb, nb, xq, xs, count, yb, 0, rows, 0, rows); double t1 = now();
            t2(w, rb, nb, xq, xs, count, ya, 0, rows, 0, rows); double t2e = now();
            ra[nr++] = (t1 - t0) / (t2e - t1);
            double mac = (double) rows * cols * count;
            printf("  A %.1f  B %.1f GMAC/s  B/A %.2f\n", mac / (t1 - t0) / 1e9, mac / (t2e - t1) / 1e9, (t1 - t0) / (t2e - t1));
        }
        for (int i = 0; i < nr; i++) for (int j = i + 1; j < nr; j++) if (ra[j] < ra[i]) { double x = ra[i]; ra[i] = ra[j]; ra[j] = x; }
        printf("B/A median %.3f [%.3f..%.3f]\n", ra[nr / 2], ra[0], ra[nr - 1]);
        return 0;
    }
    for (int round = 0; round < reps; round++) {
        double t0 = now(); vb(w, rb, nb, xq, xs, count, ya, 0, rows, 0, rows); double t1 = now();
        tl(w, rb, nb, xq, xs, count, yb, 0, rows, 0, rows); double t2 = now();
        double mac = (double) rows * cols * count;
        printf("  vnni %.1f GMAC/s  tiles %.1f GMAC/s  (x%.2f)\n", mac / (t1 - t0) / 1e9, mac / (t2 - t1) / 1e9, (t1 - t0) / (t2 - t1));
    }
}
