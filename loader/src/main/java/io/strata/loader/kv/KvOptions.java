package io.strata.loader.kv;

import io.strata.core.util.CacheDirs;
import io.strata.core.util.Sizes;
import io.strata.storage.codec.CodecKind;
import java.nio.file.Path;

/**
 * Configuration of a {@link PagedKvStore}.
 *
 * @param fastBudgetBytes bytes of raw pages kept in the fast tier, all sequences together ({@link Long#MAX_VALUE}
 *                        for unlimited)
 * @param hostBudgetBytes bytes of encoded pages kept in host memory before they go to disk
 * @param spillRoot       directory under which the store creates its own spill subdirectory (removed on close)
 * @param codec           byte codec for spilled pages (the starting choice when adaptive)
 * @param adaptiveCodec   choose LZ4 or zstd per page by ratios measured on probe pages (see
 *                        {@link io.strata.storage.codec.AdaptiveCodecChooser}); {@code --kv-codec auto}
 * @param planeWidth      byte-plane split before compressing: 4 (float32 planes) or 1 (none)
 * @param minSaving       fraction a codec must save on a page, else that page is stored raw
 * @param tokensPerPage   positions per page
 * @param windowTokens    the most recent positions of each layer that always stay in the fast tier (>= 1)
 * @param ioThreads       threads that prefetch spilled pages
 * @param scanEviction    spill the most recently read page first (right for attention's repeated in-order scans,
 *                        where LRU evicts exactly the page needed next); false: least recently used first
 */
public record KvOptions(long fastBudgetBytes, long hostBudgetBytes, Path spillRoot, CodecKind codec,
                        boolean adaptiveCodec, int planeWidth, double minSaving, int tokensPerPage, int windowTokens,
                        int ioThreads, boolean scanEviction) {

    /** Adaptive choice: probe both codecs every this many pages... */
    public static final int ADAPTIVE_PROBE_EVERY = 32;
    /** ...and take zstd only while its ratio beats LZ4's by this fraction. */
    public static final double ADAPTIVE_MIN_GAIN = 0.10;

    public static final int DEFAULT_TOKENS_PER_PAGE = 16;

    public KvOptions {
        if (fastBudgetBytes <= 0 || hostBudgetBytes < 0) {
            throw new IllegalArgumentException("KV budgets must be positive (fast " + fastBudgetBytes + ", host "
                    + hostBudgetBytes + ")");
        }
        if (tokensPerPage < 1 || windowTokens < 1 || ioThreads < 1) {
            throw new IllegalArgumentException("tokensPerPage, windowTokens and ioThreads must be >= 1");
        }
        if (planeWidth != 1 && planeWidth != 4) {
            throw new IllegalArgumentException("planeWidth must be 1 or 4 for float32 KV, not " + planeWidth);
        }
        if (minSaving < 0 || minSaving >= 1) {
            throw new IllegalArgumentException("minSaving must be in [0, 1)");
        }
    }

    /** Unlimited fast tier, LZ4 with plane split, 16 tokens a page, a window of one page. */
    public static KvOptions defaults() {
        return new KvOptions(Long.MAX_VALUE, 256L << 20, defaultSpillRoot(), CodecKind.LZ4, false, 4, 0.03,
                DEFAULT_TOKENS_PER_PAGE, DEFAULT_TOKENS_PER_PAGE, 1, true);
    }

    /**
     * The defaults with the {@code strata run} flags applied: {@code --kv-budget SIZE} (e.g. {@code 64MiB};
     * null or {@code unlimited} for no limit) and {@code --kv-codec lz4|zstd|none|auto} (null for the default).
     */
    public static KvOptions fromFlags(String kvBudget, String kvCodec) {
        KvOptions o = defaults();
        if (kvBudget != null && !kvBudget.equalsIgnoreCase("unlimited")) {
            long bytes = Sizes.parse(kvBudget);
            if (bytes <= 0) {
                throw new IllegalArgumentException("--kv-budget must be positive, not '" + kvBudget + "'");
            }
            o = o.withFastBudget(bytes);
        }
        if (kvCodec != null) {
            o = kvCodec.trim().equalsIgnoreCase("auto") ? o.withAdaptiveCodec() : o.withCodec(CodecKind.parse(kvCodec));
        }
        return o;
    }

    /** {@code kv-spill} under {@link CacheDirs#root()}. */
    public static Path defaultSpillRoot() {
        return CacheDirs.root().resolve("kv-spill");
    }

    public KvOptions withFastBudget(long bytes) {
        return new KvOptions(bytes, hostBudgetBytes, spillRoot, codec, adaptiveCodec, planeWidth, minSaving,
                tokensPerPage,
                windowTokens, ioThreads, scanEviction);
    }

    public KvOptions withHostBudget(long bytes) {
        return new KvOptions(fastBudgetBytes, bytes, spillRoot, codec, adaptiveCodec, planeWidth, minSaving,
                tokensPerPage,
                windowTokens, ioThreads, scanEviction);
    }

    public KvOptions withSpillRoot(Path dir) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, dir, codec, adaptiveCodec, planeWidth, minSaving,
                tokensPerPage,
                windowTokens, ioThreads, scanEviction);
    }

    public KvOptions withCodec(CodecKind kind) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, kind, false, planeWidth, minSaving,
                tokensPerPage,
                windowTokens, ioThreads, scanEviction);
    }

    /** LZ4 or zstd chosen per page by measured ratio. */
    public KvOptions withAdaptiveCodec() {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, CodecKind.LZ4, true, planeWidth, minSaving,
                tokensPerPage, windowTokens, ioThreads, scanEviction);
    }

    public KvOptions withPlaneWidth(int width) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, adaptiveCodec, width, minSaving,
                tokensPerPage,
                windowTokens, ioThreads, scanEviction);
    }

    public KvOptions withPaging(int tokens, int window) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, adaptiveCodec, planeWidth, minSaving,
                tokens,
                window, ioThreads, scanEviction);
    }

    public KvOptions withIoThreads(int threads) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, adaptiveCodec, planeWidth, minSaving,
                tokensPerPage,
                windowTokens, threads, scanEviction);
    }

    public KvOptions withScanEviction(boolean on) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, adaptiveCodec, planeWidth, minSaving,
                tokensPerPage, windowTokens, ioThreads, on);
    }
}
