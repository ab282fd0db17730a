/*
 * The batch kernels' read-ahead: the next block (or tile) of weight rows, [*pf, end), prefetched into L2 one slice
 * of `slice` bytes per compute step, so that its first pass does not wait on memory (strata_kernels.c batch_run,
 * strata_lq8.c lq8_run). A prefetch never faults.
 */
#ifndef STRATA_PREFETCH_SLICE_H
#define STRATA_PREFETCH_SLICE_H
#include <immintrin.h>
#include <stdint.h>

static inline void strata_prefetch_slice(const uint8_t **pf, const uint8_t *end, int64_t slice) {
    const uint8_t *p = *pf;
    for (int64_t b = 0; b < slice && p < end; b += 64, p += 64) {
        _mm_prefetch((const char *) p, _MM_HINT_T1);
    }
    *pf = p;
}

#endif
