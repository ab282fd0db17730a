package io.strata.loader.kv;

import io.strata.storage.codec.CodecKind;
import java.nio.file.Path;

/**
 * Configuration of a {@link PagedKvStore}.
 *
 * @param fastBudgetBytes bytes of raw pages kept in the fast tier, all sequences together ({@link Long#MAX_VALUE}
 *                        for unlimited)
 * @param hostBudgetBytes bytes of encoded pages kept in host memory before they go to disk
 * @param spillRoot       directory under which the store creates its own spill subdirectory (removed on close)
 * @param codec           byte codec for spilled pages
 * @param planeWidth      byte-plane split before compressing: 4 (float32 planes) or 1 (none)
 * @param minSaving       fraction a codec must save on a page, else that page is stored raw
 * @param tokensPerPage   positions per page
 * @param windowTokens    the most recent positions of each layer that always stay in the fast tier (>= 1)
 * @param ioThreads       threads that prefetch spilled pages
 */
public record KvOptions(long fastBudgetBytes, long hostBudgetBytes, Path spillRoot, CodecKind codec, int planeWidth,
                        double minSaving, int tokensPerPage, int windowTokens, int ioThreads) {

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
        return new KvOptions(Long.MAX_VALUE, 256L << 20, defaultSpillRoot(), CodecKind.LZ4, 4, 0.03,
                DEFAULT_TOKENS_PER_PAGE, DEFAULT_TOKENS_PER_PAGE, 1);
    }

    /** {@code $STRATA_CACHE/kv-spill}, else {@code ~/.cache/strata/kv-spill}. */
    public static Path defaultSpillRoot() {
        String cache = System.getenv("STRATA_CACHE");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "strata");
        return base.resolve("kv-spill");
    }

    public KvOptions withFastBudget(long bytes) {
        return new KvOptions(bytes, hostBudgetBytes, spillRoot, codec, planeWidth, minSaving, tokensPerPage,
                windowTokens, ioThreads);
    }

    public KvOptions withHostBudget(long bytes) {
        return new KvOptions(fastBudgetBytes, bytes, spillRoot, codec, planeWidth, minSaving, tokensPerPage,
                windowTokens, ioThreads);
    }

    public KvOptions withSpillRoot(Path dir) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, dir, codec, planeWidth, minSaving, tokensPerPage,
                windowTokens, ioThreads);
    }

    public KvOptions withCodec(CodecKind kind) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, kind, planeWidth, minSaving, tokensPerPage,
                windowTokens, ioThreads);
    }

    public KvOptions withPlaneWidth(int width) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, width, minSaving, tokensPerPage,
                windowTokens, ioThreads);
    }

    public KvOptions withPaging(int tokens, int window) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, planeWidth, minSaving, tokens,
                window, ioThreads);
    }

    public KvOptions withIoThreads(int threads) {
        return new KvOptions(fastBudgetBytes, hostBudgetBytes, spillRoot, codec, planeWidth, minSaving, tokensPerPage,
                windowTokens, threads);
    }
}
