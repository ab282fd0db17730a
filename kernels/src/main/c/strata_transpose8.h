/*
 * Eight 16-lane float vectors transposed so that lane k of all eight sits in one 256-bit half: r[m] lane 8 h + o =
 * a[o][2 m + h] (three rounds of two-source permutes). Adding r[0].lo, r[0].hi, r[1].lo, ... in that order gives
 * eight sequential lane sums at once, bit for bit (strata_lq8.c lq8_sum8, strata_kq8.c kq8_sum8).
 */
#ifndef STRATA_TRANSPOSE8_H
#define STRATA_TRANSPOSE8_H
#include <immintrin.h>

static inline __attribute__((target("avx512f"))) void strata_transpose8(const __m512 *a, __m512 *r) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i q0 = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const __m512i q1 = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    const __m512i r0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i r1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    __m512 p[4][2], q[2][2][2];
    for (int j = 0; j < 4; j++) { /* p[j][h]: lane 2k + b = a[2j + b][8h + k] */
        p[j][0] = _mm512_permutex2var_ps(a[2 * j], lo, a[2 * j + 1]);
        p[j][1] = _mm512_permutex2var_ps(a[2 * j], hi, a[2 * j + 1]);
    }
    for (int h = 0; h < 2; h++) { /* q[h][g][e]: lane 4k + c = a[4g + c][8h + 4e + k] */
        for (int g = 0; g < 2; g++) {
            q[h][g][0] = _mm512_permutex2var_ps(p[2 * g][h], q0, p[2 * g + 1][h]);
            q[h][g][1] = _mm512_permutex2var_ps(p[2 * g][h], q1, p[2 * g + 1][h]);
        }
    }
    for (int h = 0; h < 2; h++) {
        for (int e = 0; e < 2; e++) {
            r[4 * h + 2 * e] = _mm512_permutex2var_ps(q[h][0][e], r0, q[h][1][e]);
            r[4 * h + 2 * e + 1] = _mm512_permutex2var_ps(q[h][0][e], r1, q[h][1][e]);
        }
    }
}
#endif
