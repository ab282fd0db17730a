package io.strata.tools.commands;

import io.strata.core.kv.KvPageView;
import io.strata.core.memory.Pool;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.HeapKvCache;
import io.strata.kernels.decoder.MoeDecoder;
import io.strata.kernels.decoder.Sequence;
import io.strata.storage.safetensors.CheckpointWeights;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.kv.KvStats;
import io.strata.loader.kv.PagedKvSequence;
import io.strata.loader.kv.PagedKvStore;
import io.strata.storage.codec.CodecKind;
import io.strata.storage.codec.PageRecordDecoder;
import io.strata.storage.codec.PageRecordEncoder;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench kv}: KV spill/restore throughput per codec against a plain memory copy of the same pages,
 * and compression ratios, on real KV pages written by the reference decoder.
 */
@Command(name = "kv", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Benchmark KV page spill/restore codecs against a plain memory copy.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Runs the reference decoder greedily for --positions positions on a checkpoint and collects",
                "  its real KV pages (float32, --page-tokens positions per page, keys then values). Then, for",
                "  the pages as float32 and converted to bf16 and f16, and for each codec (none, lz4, zstd)",
                "  with and without a byte-plane split, measures in the same run: spill = encode a page into a",
                "  checksummed record (split, compress, XXH64), restore = verify and decode it back, and, as",
                "  the baseline, a plain copy of the same page bytes into off-heap memory and back. Every",
                "  measurement processes at least --min-bytes of raw pages; the best of --rounds is kept.",
                "  Reports MB/s of raw page bytes, the ratio to the copy, and the compression ratio",
                "  (raw bytes / stored record bytes, headers included). Finally it replays the decode with",
                "  the paged KV store under a tenth of the cache, per --kv-codec choice (auto: LZ4 or zstd by",
                "  measured ratio), and prints the store's telemetry."},
        optionListHeading = "%nOPTIONS%n",
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata bench kv --model ./Mixtral-8x7B-Instruct --positions 1024")
public final class BenchKvCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Hugging Face checkpoint directory (config.json + safetensors) whose decoder makes the"
                    + " KV pages.")
    Path model;

    @Option(names = "--positions", paramLabel = "N", defaultValue = "512",
            description = "Positions to decode. Default: ${DEFAULT-VALUE}.")
    int positions;

    @Option(names = "--page-tokens", paramLabel = "N", defaultValue = "16",
            description = "Positions per KV page. Default: ${DEFAULT-VALUE}.")
    int pageTokens;

    @Option(names = "--min-bytes", paramLabel = "SIZE", defaultValue = "64MiB",
            description = "Raw bytes each measurement processes at least. Default: ${DEFAULT-VALUE}.")
    String minBytes;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Rounds per measurement; the best is reported. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        Path dir = model;
        long min = Sizes.parse(minBytes);
        List<byte[]> pages;
        int kvDim;
        int layers;
        try (CheckpointWeights w = CheckpointWeights.open(dir)) {
            MoeDecoder decoder = new MoeDecoder(w, DecoderOptions.defaults().withThreads(1)
                    .withSpeculativePrefetch(false).withKvPageTokens(pageTokens));
            kvDim = decoder.config().kvDim();
            layers = decoder.config().numLayers();
            long t0 = System.nanoTime();
            pages = decodePages(decoder, layers, kvDim);
            o.printf(Locale.ROOT, "model %s: %d layers, kvDim %d; decoded %d positions in %.1f s -> %d full pages of "
                            + "%d bytes%n", dir, layers, kvDim, positions, (System.nanoTime() - t0) / 1e9,
                    pages.size(), pages.getFirst().length);
            o.printf(Locale.ROOT, "%-5s %-5s %-6s %7s %11s %13s %9s %11s%n", "dtype", "codec", "planes", "ratio",
                    "spill MB/s", "restore MB/s", "spill/cp", "restore/cp");
            for (String dtype : List.of("f32", "bf16", "f16")) {
                List<byte[]> data = convert(pages, dtype);
                int width = dtype.equals("f32") ? 4 : 2;
                double[] copy = measureCopy(data, min);
                o.printf(Locale.ROOT, "%-5s %-5s %-6s %7.3f %11.0f %13.0f %9s %11s%n", dtype, "copy", "-", 1.0,
                        copy[0], copy[1], "1.00", "1.00");
                for (CodecKind codec : List.of(CodecKind.NONE, CodecKind.LZ4, CodecKind.ZSTD)) {
                    for (int planes : codec == CodecKind.NONE ? new int[]{1} : new int[]{1, width}) {
                        double[] r = measureCodec(data, codec, planes, min);
                        o.printf(Locale.ROOT, "%-5s %-5s %-6s %7.3f %11.0f %13.0f %9.2f %11.2f%n", dtype,
                                codec.name().toLowerCase(Locale.ROOT), planes == 1 ? "no" : "split" + planes, r[2],
                                r[0], r[1], r[0] / copy[0], r[1] / copy[1]);
                    }
                }
                o.flush();
            }
            replayWithStore(o, decoder, layers, kvDim);
        }
        return 0;
    }

    /** Greedy decode into a heap cache; every full page of every layer, keys then values. */
    private List<byte[]> decodePages(MoeDecoder decoder, int layers, int kvDim) {
        HeapKvCache cache = new HeapKvCache(layers, kvDim, pageTokens);
        List<byte[]> out = new ArrayList<>();
        try (Sequence s = decoder.newSequence(cache)) {
            int token = 1;
            for (int i = 0; i < positions; i++) {
                token = argmax(s.forward(token));
            }
            for (int layer = 0; layer < layers; layer++) {
                for (int p = 0; (p + 1) * pageTokens <= cache.length(layer); p++) {
                    try (KvPageView v = cache.page(layer, p)) {
                        int n = (int) v.keys().byteSize();
                        byte[] page = new byte[2 * n];
                        MemorySegment.copy(v.keys(), ValueLayout.JAVA_BYTE, 0, page, 0, n);
                        MemorySegment.copy(v.values(), ValueLayout.JAVA_BYTE, 0, page, n, n);
                        out.add(page);
                    }
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--positions " + positions + " fills no page of " + pageTokens
                    + " positions");
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The float32 pages as stored, or narrowed to bf16 (top half, truncated) or f16 (rounded). */
    private static List<byte[]> convert(List<byte[]> pages, String dtype) {
        if (dtype.equals("f32")) {
            return pages;
        }
        List<byte[]> out = new ArrayList<>(pages.size());
        for (byte[] p : pages) {
            ByteBuffer in = ByteBuffer.wrap(p).order(ByteOrder.nativeOrder());
            ByteBuffer b = ByteBuffer.allocate(p.length / 2).order(ByteOrder.LITTLE_ENDIAN);
            while (in.hasRemaining()) {
                float f = in.getFloat();
                b.putShort(dtype.equals("bf16") ? (short) (Float.floatToRawIntBits(f) >>> 16) : Float.floatToFloat16(f));
            }
            out.add(b.array());
        }
        return out;
    }

    private int repeats(List<byte[]> data, long min) {
        long bytes = 0;
        for (byte[] p : data) {
            bytes += p.length;
        }
        return (int) Math.max(1, (min + bytes - 1) / bytes);
    }

    private static long total(List<byte[]> data) {
        long bytes = 0;
        for (byte[] p : data) {
            bytes += p.length;
        }
        return bytes;
    }

    /** {spill MB/s, restore MB/s}: each page copied into off-heap memory, and back into a heap array. */
    private double[] measureCopy(List<byte[]> data, long min) {
        int reps = repeats(data, min);
        long bytes = total(data) * reps;
        double bestSpill = 0;
        double bestRestore = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] off = new MemorySegment[data.size()];
            for (int i = 0; i < off.length; i++) {
                off[i] = arena.allocate(data.get(i).length, 64);
            }
            byte[] back = new byte[data.getFirst().length];
            long sink = 0;
            for (int round = 0; round < rounds + 1; round++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    for (int i = 0; i < off.length; i++) {
                        byte[] p = data.get(i);
                        MemorySegment.copy(p, 0, off[i], ValueLayout.JAVA_BYTE, 0, p.length);
                    }
                }
                long t1 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    for (MemorySegment s : off) {
                        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, back, 0, (int) s.byteSize());
                        sink += back[r % back.length];
                    }
                }
                long t2 = System.nanoTime();
                if (round > 0) { // round 0 warms up
                    bestSpill = Math.max(bestSpill, bytes / 1e6 / ((t1 - t0) / 1e9));
                    bestRestore = Math.max(bestRestore, bytes / 1e6 / ((t2 - t1) / 1e9));
                }
            }
            if (sink == 42) {
                System.out.print("");
            }
        }
        return new double[]{bestSpill, bestRestore};
    }

    /** {spill MB/s, restore MB/s, compression ratio}. */
    private double[] measureCodec(List<byte[]> data, CodecKind codec, int planes, long min) {
        PageRecordEncoder enc = new PageRecordEncoder(codec.codec(), planes, 0.0);
        PageRecordDecoder dec = new PageRecordDecoder();
        int reps = repeats(data, min);
        long bytes = total(data) * reps;
        byte[][] records = new byte[data.size()][];
        long stored = 0;
        for (int i = 0; i < records.length; i++) {
            byte[] p = data.get(i);
            records[i] = enc.encode(0, i, pageTokens, p.length, p, p.length);
            stored += records[i].length;
        }
        byte[] raw = new byte[data.getFirst().length];
        double bestSpill = 0;
        double bestRestore = 0;
        for (int round = 0; round < rounds + 1; round++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                for (int i = 0; i < records.length; i++) {
                    byte[] p = data.get(i);
                    records[i] = enc.encode(0, i, pageTokens, p.length, p, p.length);
                }
            }
            long t1 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                for (int i = 0; i < records.length; i++) {
                    dec.decode(records[i], 0, i, raw, "bench");
                }
            }
            long t2 = System.nanoTime();
            if (round > 0) {
                bestSpill = Math.max(bestSpill, bytes / 1e6 / ((t1 - t0) / 1e9));
                bestRestore = Math.max(bestRestore, bytes / 1e6 / ((t2 - t1) / 1e9));
            }
        }
        return new double[]{bestSpill, bestRestore, (double) total(data) / stored};
    }

    /** The same decode through the paged store with a tenth of the cache in the fast tier: its telemetry. */
    private void replayWithStore(PrintWriter o, MoeDecoder decoder, int layers, int kvDim) throws Exception {
        long cache = 2L * layers * kvDim * Float.BYTES * positions;
        Path spill = Files.createTempDirectory("strata-bench-kv");
        try {
            for (String codec : List.of("none", "lz4", "zstd", "auto")) {
                KvOptions opts = KvOptions.fromFlags(null, codec).withSpillRoot(spill)
                        .withFastBudget(Math.max(cache / 10, 8L * 2 * pageTokens * kvDim * Float.BYTES))
                        .withHostBudget(cache / 4).withPaging(pageTokens, pageTokens);
                long t0 = System.nanoTime();
                KvStats stats;
                try (PagedKvStore store = PagedKvStore.create(opts)) {
                    PagedKvSequence seq = store.newSequence(kvDim, layers);
                    try (Sequence s = decoder.newSequence(seq)) {
                        int token = 1;
                        for (int i = 0; i < positions; i++) {
                            token = argmax(s.forward(token));
                        }
                        stats = store.stats();
                    }
                    if (store.fastLedger().used(Pool.KV) != 0 || store.hostLedger().used(Pool.KV) != 0) {
                        throw new IllegalStateException("KV pool not back to zero after the sequence closed");
                    }
                }
                o.printf(Locale.ROOT, "store %-4s fast budget %s, %.2f s: %s%n", codec,
                        Sizes.format(opts.fastBudgetBytes()), (System.nanoTime() - t0) / 1e9, stats);
            }
        } finally {
            Files.deleteIfExists(spill);
        }
    }
}
