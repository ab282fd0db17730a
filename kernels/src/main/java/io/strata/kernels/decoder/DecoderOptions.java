package io.strata.kernels.decoder;

import io.strata.kernels.cpu.CpuTopology;
import io.strata.kernels.quant.QuantArithmetic;

/**
 * How a {@link MoeDecoder} computes.
 *
 * @param vectorKernels       Vector API kernels (true) or the scalar reference kernels (false)
 * @param threads             threads of the worker team a large matvec is split over (1 = the calling thread
 *                            only); the default is one per physical core, see {@link CpuTopology}
 * @param speculativePrefetch after each layer's attention, run the next layer's router on the current hidden
 *                            state and pass the predicted experts to {@code WeightSource.prefetch}; a batch of
 *                            prompt positions instead hints each layer's routed experts before pinning them
 * @param prefetchWidth       how many predicted experts to hint (0 = the model's experts per token)
 * @param kvPageTokens        positions per page of the default {@link HeapKvCache}
 * @param prefillBatch        prompt positions that go through each layer together (1 = token by token): each
 *                            dense weight and each routed expert is read once per batch
 * @param quantArithmetic     how matvecs over block-quantised weights compute: llama.cpp's int8 activations
 *                            (memory-bound; the default where its native kernels run) or float activations (exact
 *                            to the dequantised weights)
 */
public record DecoderOptions(boolean vectorKernels, int threads, boolean speculativePrefetch, int prefetchWidth,
                             int kvPageTokens, int prefillBatch, QuantArithmetic quantArithmetic) {
    /** Prompt positions per batch by default: enough that every expert of a layer sees tens of tokens. */
    public static final int DEFAULT_PREFILL_BATCH = 128;

    public DecoderOptions {
        java.util.Objects.requireNonNull(quantArithmetic, "quantArithmetic");
        if (threads < 1 || prefetchWidth < 0 || kvPageTokens < 1 || prefillBatch < 1) {
            throw new IllegalArgumentException("decoder options: threads >= 1, prefetchWidth >= 0, kvPageTokens >= 1,"
                    + " prefillBatch >= 1 required, got " + threads + ", " + prefetchWidth + ", " + kvPageTokens + ", "
                    + prefillBatch);
        }
    }

    /**
     * Vector kernels on one thread per physical core, speculative prefetch on, 64-position KV pages, prompts in
     * batches of {@link #DEFAULT_PREFILL_BATCH}, {@link QuantArithmetic#preferred()} for quantised weights.
     */
    public static DecoderOptions defaults() {
        return new DecoderOptions(true, CpuTopology.physicalCores(), true, 0, 64, DEFAULT_PREFILL_BATCH,
                QuantArithmetic.preferred());
    }

    public DecoderOptions withVectorKernels(boolean v) {
        return new DecoderOptions(v, threads, speculativePrefetch, prefetchWidth, kvPageTokens, prefillBatch,
                quantArithmetic);
    }

    public DecoderOptions withThreads(int t) {
        return new DecoderOptions(vectorKernels, t, speculativePrefetch, prefetchWidth, kvPageTokens, prefillBatch,
                quantArithmetic);
    }

    public DecoderOptions withSpeculativePrefetch(boolean on) {
        return new DecoderOptions(vectorKernels, threads, on, prefetchWidth, kvPageTokens, prefillBatch,
                quantArithmetic);
    }

    public DecoderOptions withPrefetchWidth(int width) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, width, kvPageTokens, prefillBatch,
                quantArithmetic);
    }

    public DecoderOptions withKvPageTokens(int tokens) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, prefetchWidth, tokens, prefillBatch,
                quantArithmetic);
    }

    public DecoderOptions withPrefillBatch(int positions) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, prefetchWidth, kvPageTokens, positions,
                quantArithmetic);
    }

    public DecoderOptions withQuantArithmetic(QuantArithmetic a) {
        return new DecoderOptions(vectorKernels, threads, speculativePrefetch, prefetchWidth, kvPageTokens, prefillBatch,
                a);
    }
}
