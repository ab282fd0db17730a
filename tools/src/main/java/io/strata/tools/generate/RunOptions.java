package io.strata.tools.generate;

import io.strata.loader.policy.Policies;
import io.strata.core.util.Sizes;
import io.strata.kernels.decoder.DecoderOptions;
import io.strata.kernels.decoder.Sampler;
import io.strata.kernels.quant.QuantArithmetic;
import io.strata.loader.kv.KvOptions;
import io.strata.loader.runtime.RuntimeOptions;
import io.strata.loader.runtime.ReadMode;
import io.strata.loader.runtime.MemoryFit;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The paging, KV and sampling options that {@code run} and {@code demo} share (a picocli mixin). */
public final class RunOptions {
    @Option(names = "--device-budget", paramLabel = "SIZE",
            description = "Device-tier budget (simulated device where no GPU is used), e.g. 256MiB. 0 = no device tier (compute reads host memory). Default: 0.")
    public String deviceBudget;

    @Option(names = "--host-budget", paramLabel = "SIZE",
            description = "Host-memory budget for weights, e.g. 1GiB. Default: fit to the memory free now (the smaller"
                    + " of MemAvailable and the cgroup limit), minus a reserve for the JVM and the kernel; the choice"
                    + " is printed.")
    public String hostBudget;

    @Option(names = "--read-mode", paramLabel = "MODE", defaultValue = "direct",
            description = "How experts are read from a local model directory: direct (O_DIRECT, no page-cache copy),"
                    + " drop (buffered, then the pages are dropped) or buffered. Default: ${DEFAULT-VALUE}.")
    public String readMode;

    @Option(names = "--cache-local",
            description = "Also copy experts read from a local model directory into the disk cache (for a model"
                    + " directory on slow or network storage). By default the disk cache holds only bytes fetched"
                    + " from peers: a local model directory is read in place.")
    public boolean cacheLocal;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Persistent disk cache (content-addressed). Default: $STRATA_CACHE, else $XDG_CACHE_HOME/strata, else ~/.cache/strata.")
    public Path cacheDir;

    @Option(names = "--no-disk-cache", description = "Read experts straight from the model directory, caching nothing on disk.")
    public boolean noDiskCache;

    @Option(names = "--policy", paramLabel = "P", defaultValue = Policies.DEFAULT,
            description = "Expert cache policy: next-visit, reuse-distance (alias moe), lru, lfu or tinylfu. Default: ${DEFAULT-VALUE}.")
    public String policy;

    @Option(names = "--no-prefetch", description = "Turn off the prefetch scheduler (speculative gating of the next layer; frequency prefetch is off by default).")
    public boolean noPrefetch;

    @Option(names = "--frequency-prefetch", description = "Also prefetch each layer's most used experts (off by default: on the real Mixtral routing traces it read 1.45-2.3x the experts per token to save about 3 misses).")
    public boolean frequencyPrefetch;

    @Option(names = "--kv-budget", paramLabel = "SIZE",
            description = "Fast-tier budget for the KV cache; older pages spill to host memory then disk. Default: unlimited (plain heap pages).")
    public String kvBudget;

    @Option(names = "--kv-codec", paramLabel = "CODEC", defaultValue = "lz4",
            description = "Codec for spilled KV pages: lz4 (fast), zstd (dense), auto (by measured ratio) or none. Default: ${DEFAULT-VALUE}.")
    public String kvCodec;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", converter = Temperature.class,
            description = "Sampling temperature, a finite number >= 0; 0 = greedy. Default: ${DEFAULT-VALUE}.")
    public double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", converter = TopP.class,
            description = "Nucleus sampling mass, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    public double topP;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    public long seed;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    public Integer threads;

    @Option(names = "--quant-arithmetic", paramLabel = "A", defaultValue = "auto", converter = Arithmetic.class,
            description = "Arithmetic of matvecs over quantised (GGUF block) weights: int8 = activations quantised"
                    + " to 8 bits per block as llama.cpp does (memory-bound speed; llama.cpp's logits), float ="
                    + " float activations (exact to the dequantised weights, slower), auto = int8 where its native"
                    + " kernels run (AVX-512 VNNI), else float. Default: ${DEFAULT-VALUE}.")
    public QuantArithmetic quantArithmetic;

    @Option(names = "--trust-local",
            description = "Do not verify bytes read from the model directory and the disk cache against the"
                    + " manifest's BLAKE3 hashes (they are verified once per chunk per run by default).")
    public boolean trustLocal;

    /** {@code --temperature}: NaN, infinities and negative values are usage errors, not a silent greedy run. */
    /** {@code int8}, {@code float} or {@code auto}. */
    public static final class Arithmetic implements CommandLine.ITypeConverter<QuantArithmetic> {
        @Override
        public QuantArithmetic convert(String v) {
            return QuantArithmetic.parse(v).orElseThrow(() -> new CommandLine.TypeConversionException(
                    "'" + v + "' is not int8, float or auto"));
        }
    }

    public static final class Temperature implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double t = number(value);
            if (!Double.isFinite(t) || t < 0) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a finite number >= 0");
            }
            return t;
        }
    }

    /** {@code --top-p}: a probability mass in (0, 1]. */
    public static final class TopP implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double p = number(value);
            if (!(p > 0 && p <= 1)) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not in (0, 1]");
            }
            return p;
        }
    }

    private static double number(String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a number");
        }
    }

    private MemoryFit fit;

    /** The automatic fit chosen when no --host-budget is given (measured once per command), else empty. */
    public java.util.Optional<MemoryFit> fit() {
        if (hostBudget != null) {
            return java.util.Optional.empty();
        }
        if (fit == null) {
            fit = MemoryFit.measure();
        }
        return java.util.Optional.of(fit);
    }

    public RuntimeOptions runtime() {
        RuntimeOptions.Builder b = RuntimeOptions.builder().policy(policy.toLowerCase(Locale.ROOT)).prefetch(!noPrefetch)
                .frequencyPrefetch(frequencyPrefetch)
                .trustLocal(trustLocal).readMode(ReadMode.parse(readMode)).cacheLocal(cacheLocal);
        if (deviceBudget != null) {
            b.deviceBudget(size("--device-budget", deviceBudget));
        }
        if (hostBudget != null) {
            b.hostBudget(size("--host-budget", hostBudget));
        } else {
            b.hostBudget(fit().orElseThrow().hostBudget());
        }
        if (noDiskCache) {
            b.noDiskCache();
        } else if (cacheDir != null) {
            b.cacheDir(cacheDir);
        }
        return b.build();
    }

    /** Null when the KV cache is unbounded (plain heap pages). */
    public KvOptions kv() {
        if (kvBudget == null) {
            return null;
        }
        KvOptions o = KvOptions.fromFlags(kvBudget, kvCodec);
        return cacheDir == null ? o : o.withSpillRoot(cacheDir.resolve("kv-spill"));
    }

    public Sampler sampler() {
        return Sampler.temperature(temperature, topP, seed);
    }

    public DecoderOptions decoder() {
        DecoderOptions d = DecoderOptions.defaults().withSpeculativePrefetch(!noPrefetch)
                .withQuantArithmetic(quantArithmetic == null ? QuantArithmetic.preferred() : quantArithmetic);
        return threads == null ? d : d.withThreads(threads);
    }

    static long size(String option, String text) {
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }
}
