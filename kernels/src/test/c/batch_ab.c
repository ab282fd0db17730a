/*
 * A/B timing of the native batch (prompt) kernels of two or more builds of libstrata_kernels, interleaved round by
 * round in one process, each round's figure divided by the CPU's peak rate measured just before it in the same
 * round by the first library's own peak loop (strata_peak.c, as bench compute: float FMA for the 16-bit and F32
 * kernels, VNNI for the int8 ones): this machine's CPU share swings 1.5x
 * from minute to minute, so only such within-round ratios compare. Thread CPU time, one thread; weights rotate
 * over 8 copies (from DRAM, as a prompt's experts are), inputs stay put. Values are random but finite: timing
 * only, no result is checked (NativeKernelsTest and the quant tests check bits). Used by scripts/kernel-ab.sh.
 *
 * usage: batch_ab TYPE ROWS COLS INPUTS REPS ROUNDS LIB... (TYPE: bf16 f16 f32 q8_0 q4_k)
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int32_t (*half_fn)(const uint8_t *, int32_t, const float *, int32_t, int32_t, int32_t, float *, int32_t,
                           int32_t, int32_t, int32_t);
typedef int32_t (*int8_fn)(const uint8_t *, int64_t, int32_t, const uint8_t *, int64_t, int32_t, float *, int32_t,
                           int32_t, int32_t, int32_t);

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef int64_t (*peak_fn)(int64_t, float *);

/* multiply-adds per second of the library's own peak loop (strata_peak.c: what bench compute divides by) */
static double peak_rate(peak_fn peak) {
    float sink;
    double t0 = cpu_now();
    int64_t macs = peak(20000000, &sink);
    return macs / (cpu_now() - t0);
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s TYPE ROWS COLS INPUTS REPS ROUNDS LIB...\n", argv[0]);
        return 2;
    }
    const char *type = argv[1];
    int rows = atoi(argv[2]), cols = atoi(argv[3]), n = atoi(argv[4]), reps = atoi(argv[5]), rounds = atoi(argv[6]);
    int nlib = argc - 7, copies = 8;
    int q8 = !strcmp(type, "q8_0"), q4k = !strcmp(type, "q4_k"), f32 = !strcmp(type, "f32");
    int half = !strcmp(type, "bf16") || !strcmp(type, "f16");
    if ((!q8 && !q4k && !f32 && !half) || nlib > 8 || rounds > 64 || rounds < 1 || reps < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    srand(7);
    int64_t rb, xs;
    int32_t nb = 0;
    if (q8) { nb = cols / 32; rb = 34 * (int64_t) nb; }
    else if (q4k) { nb = cols / 256; rb = 144 * (int64_t) nb; }
    else rb = (int64_t) cols * (f32 ? 4 : 2);
    size_t mat = (size_t) rows * rb;
    uint8_t *w = aligned_alloc(64, (mat * copies + 63) / 64 * 64);
    for (size_t i = 0; i < mat * copies; i++) w[i] = (uint8_t) rand();
    for (size_t r = 0; r < (size_t) rows * copies; r++) { /* finite scales and values */
        uint8_t *row = w + r * rb;
        if (q8) for (int b = 0; b < nb; b++) { row[34 * b] = 0; row[34 * b + 1] = 0x3C; }
        else if (q4k) for (int b = 0; b < nb; b++) { uint8_t *p = row + 144 * b; p[0] = 0; p[1] = 0x3C; p[2] = 0; p[3] = 0x38; }
        else if (f32) for (int c = 0; c < cols; c++) { float v = (rand() % 2001 - 1000) * 1e-3f; memcpy(row + 4 * c, &v, 4); }
        else for (int c = 0; c < cols; c++) row[2 * c + 1] = (uint8_t) (0x3C + (rand() & 1) - (rand() & 2 ? 0x80 : 0));
    }
    uint8_t *x;
    if (q8 || q4k) { /* Q8Activations (codes, dx, sx, xs padded to 16 blocks) or Q8_K blocks */
        int pad = (nb + 15) / 16 * 16;
        xs = q8 ? (int64_t) pad * 32 + (int64_t) pad * 12 : 292 * (int64_t) nb;
        x = aligned_alloc(64, (xs * n + 63) / 64 * 64);
        for (int64_t i = 0; i < xs * n; i++) x[i] = (uint8_t) (rand() & 0x7f);
        for (int i = 0; i < n; i++) {
            float d = 0.01f;
            if (q8) {
                float *dx = (float *) (x + i * xs + (int64_t) pad * 32);
                for (int b = 0; b < 2 * pad; b++) dx[b] = d;
                int32_t *sum = (int32_t *) (dx + 2 * pad);
                for (int b = 0; b < pad; b++) sum[b] = rand() % 1000;
            } else {
                for (int b = 0; b < nb; b++) memcpy(x + i * xs + 292 * (int64_t) b, &d, 4);
            }
        }
    } else {
        xs = cols;
        float *xf = aligned_alloc(64, ((size_t) n * cols * 4 + 63) / 64 * 64);
        for (size_t i = 0; i < (size_t) n * cols; i++) xf[i] = (rand() % 1000) / 1000.0f - 0.5f;
        x = (uint8_t *) xf;
    }
    float *y = aligned_alloc(64, ((size_t) n * rows * 4 + 63) / 64 * 64);
    char sym[64];
    if (q8) snprintf(sym, sizeof sym, "strata_lq8_q8_0");
    else if (q4k) snprintf(sym, sizeof sym, "strata_kq8_q4_k_batch");
    else snprintf(sym, sizeof sym, "strata_%s_batch", type);
    void *fn[8];
    for (int l = 0; l < nlib; l++) {
        void *h = dlopen(argv[7 + l], RTLD_NOW | RTLD_LOCAL);
        fn[l] = h != NULL ? dlsym(h, sym) : NULL;
        if (fn[l] == NULL) {
            fprintf(stderr, "%s: no %s (%s)\n", argv[7 + l], sym, dlerror());
            return 1;
        }
    }
    peak_fn peak = (peak_fn) dlsym(dlopen(argv[7], RTLD_NOW | RTLD_LOCAL), q8 || q4k ? "strata_peak_dpbusd"
                                                                                      : "strata_peak_fma");
    if (peak == NULL || peak(1, &(float) {0}) < 0) {
        fprintf(stderr, "%s: no usable peak loop\n", argv[7]);
        return 1;
    }
    double r[8][64];
    for (int k = 0; k < rounds; k++) {
        double pk = peak_rate(peak);
        for (int j = 0; j < nlib; j++) {
            int l = k % 2 == 0 ? j : nlib - 1 - j; /* odd rounds in reverse: no library always runs second */
            double t0 = cpu_now();
            for (int i = 0; i < reps; i++) {
                const uint8_t *wi = w + (size_t) (i % copies) * mat;
                int32_t rc = q8 || q4k ? ((int8_fn) fn[l])(wi, rb, nb, x, xs, n, y, 0, rows, 0, rows)
                                       : ((half_fn) fn[l])(wi, f32 ? cols : cols / 2, (const float *) x, 0, cols, n,
                                                           y, 0, rows, 0, rows);
                if (rc != 0) {
                    fprintf(stderr, "%s: %s returned %d\n", argv[7 + l], sym, rc);
                    return 1;
                }
            }
            r[l][k] = (double) rows * cols * n * reps / (cpu_now() - t0) / pk;
        }
    }
    printf("%s %d x %d, %d inputs, %d rounds: median [min..max] of the %s peak measured in each round\n", type, rows,
           cols, n, rounds, q8 || q4k ? "VNNI" : "FMA");
    for (int l = 0; l < nlib; l++) {
        double *a = r[l];
        for (int i = 0; i < rounds; i++)
            for (int j = i + 1; j < rounds; j++)
                if (a[j] < a[i]) { double t = a[i]; a[i] = a[j]; a[j] = t; }
        printf("  %-40s %.3f [%.3f..%.3f]\n", argv[7 + l], a[rounds / 2], a[0], a[rounds - 1]);
    }
    return 0;
}
