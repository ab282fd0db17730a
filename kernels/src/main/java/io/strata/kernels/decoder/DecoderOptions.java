package io.strata.kernels.decoder;

/**
 * How a {@link MoeDecoder} computes.
 *
 * @param vectorKernels       Vector API kernels (true) or the scalar reference kernels (false)
 * @param threads             workers a large matvec is split over (1 = the calling thread only)
 * @param speculativePrefetch after each layer's attention, run the next layer's router on the current hidden
 *                            state and pass the predicted experts to {@code WeightSource.prefetch}
 * @param prefetchWidth       how many predicted experts to hint (0 = the model's experts per token)
 * @param kvPageTokens        positions per page of the default {@link HeapKvCache}
 */
public record DecoderOptions(boolean vectorKernels, int threads, boolean speculativePrefetch, int prefetchWidth,
                             int kvPageTokens) {
    public DecoderOptions {
        if (threads < 1 || prefetchWidth < 0 || kvPageTokens < 1) {
            throw new IllegalArgumentException("decoder options: threads >= 1, prefetchWidth >= 0, kvPageTokens >= 1"
                    + " required, got " + threads + ", " + prefetchWidth + ", " + kvPageTokens);
        }
    }

    /** Vector kernels on every available core, speculative prefetch on, 64-position KV pages. */
    public static DecoderOptions defaults() {
        return new DecoderOptions(true, Runtime.getRuntime().availableProcessors(), true, 0, 64);
    }

    public DecoderOptions withVectorKernels(boolean v) {
        return new DecoderOptions(v, threads, speculativePrefetch, prefetchWidth, kvPageTokens);
    }

    public DecoderOptions withThreads(int t) {
        return new DecoderOptions(vectorKernels, t, speculativePrefetch, prefetchWidth, kvPageTokens);
    }

    public DecoderOptions withSpeculativePrefetch(boolean on) {
        return new DecoderOptions(vectorKernels, threads, on, prefetchWidth, kvPageTokens);
    }

    public DecoderOptions withPrefetchWidth(int width) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, width, kvPageTokens);
    }

    public DecoderOptions withKvPageTokens(int tokens) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, prefetchWidth, tokens);
    }
}
