package io.strata.tools.generate;

import io.strata.core.telemetry.TelemetrySnapshot;
import io.strata.loader.kv.KvStats;
import java.util.List;

/**
 * What a generation produced and what it cost. {@code logits} holds one array per generated token: the last
 * position's logits from which that token was chosen. Times in nanoseconds; {@code expertWaitNanos} is the part of
 * decoding spent waiting for experts to be paged in.
 */
public record GenerationResult(List<Integer> prompt, List<Integer> generated, List<float[]> logits,
                               long promptNanos, long decodeNanos, long expertWaitNanos,
                               TelemetrySnapshot telemetry, KvStats kv, long expertBytes, int expertCount,
                               long denseBytes) {

    /** Decode throughput: generated tokens after the first (which comes out of the prompt pass) per second. */
    public double decodeTokensPerSecond() {
        int decoded = Math.max(0, generated.size() - 1);
        return decodeNanos == 0 ? 0 : decoded * 1e9 / decodeNanos;
    }
}
