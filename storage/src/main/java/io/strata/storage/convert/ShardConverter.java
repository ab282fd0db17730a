package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.MoeConfig;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.core.util.Sizes;
import io.strata.storage.convert.ShardPlan.Group;
import io.strata.storage.convert.ShardPlan.Placement;
import io.strata.storage.convert.ShardPlan.Shard;
import io.strata.storage.model.ShardHasher;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;

/**
 * Converts a Hugging Face safetensors checkpoint or a GGUF file ({@link ConvertSource}) into Strata's
 * expert-aligned shards plus an RDRR-style {@code manifest.json}. The layout is planned from the headers first ({@link ShardPlanner}); then each shard is
 * streamed from the mapped source through a small off-heap buffer ({@link ShardWriter}) and hashed back from
 * disk on all cores while the next one is written ({@link ShardHasher}). At most two shards are in flight, so
 * memory stays bounded whatever the checkpoint size. Output is deterministic and appears atomically
 * ({@link AtomicOutput}): on any error nothing is left at the output path.
 */
public final class ShardConverter {
    private static final int IN_FLIGHT = 2;

    /** What a conversion produced. */
    public record Result(Path out, Manifest manifest, String manifestHash, long tensorBytes) {
    }

    private ShardConverter() {
    }

    public static Result convert(Path src, Path out, ConvertOptions options, ProgressListener progress) {
        Path absSrc = src.toAbsolutePath().normalize();
        Path absOut = out.toAbsolutePath().normalize();
        // real paths: a source reached through a symlink into OUT (or OUT through a link to the source) must not
        // be deleted by --force replacing OUT
        Path realSrc = AtomicOutput.realPath(absSrc);
        Path realOut = AtomicOutput.realPath(absOut);
        if (absSrc.startsWith(absOut) || realSrc.startsWith(realOut)) {
            throw new ConvertException(absOut + ": the output would contain (or be) the source " + absSrc
                    + (realSrc.equals(absSrc) ? "" : " (" + realSrc + ")"));
        }
        boolean ok = false;
        try (ConvertSource ckpt = ConvertSource.open(absSrc)) {
            checkHeap(absSrc, ckpt.tensors().size(), options.tp());
            ShardPlan plan = ShardPlanner.plan(ckpt, options);
            try (AtomicOutput output = AtomicOutput.create(absOut, options.force())) {
                Result r = write(ckpt, plan, options, output, progress);
                output.commit();
                ok = true;
                return new Result(output.target(), r.manifest(), r.manifestHash(), r.tensorBytes());
            }
        } finally {
            progress.finish(ok);
        }
    }

    /**
     * The plan and the manifest hold every tensor entry in memory at once (about 1.5 KiB each, measured with 131 k
     * one-byte tensors: 256 MiB of heap converts them, 192 MiB runs out). Refuse up front, with the figure, rather
     * than run out of memory halfway; shard bytes themselves stream through a fixed buffer.
     */
    static void checkHeap(Path src, int tensors, int tp) {
        long need = Sizes.plus(16L << 20, Sizes.times(tensors, tp, 1536));
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && need > max) {
            throw new ConvertException(src + ": " + tensors + " tensors" + (tp > 1 ? " in " + tp + " TP slices" : "")
                    + " need about " + Sizes.format(need) + " of heap to convert; this JVM may use "
                    + Sizes.format(max) + " (raise it, e.g. STRATA_JAVA_OPTS=-Xmx" + (need * 2 >> 20) + "m)");
        }
    }

    private static Result write(ConvertSource ckpt, ShardPlan plan, ConvertOptions o, AtomicOutput output,
                                ProgressListener progress) {
        ExecutorService pool = ShardHasher.newPool("strata-hash");
        try (ShardWriter writer = new ShardWriter()) {
            progress.start(plan.tensorBytes(), plan.shards().size());
            List<CompletableFuture<ShardHasher.Hashes>> hashes = new ArrayList<>();
            for (Shard shard : plan.shards()) {
                if (hashes.size() >= IN_FLIGHT) {
                    join(hashes.get(hashes.size() - IN_FLIGHT));
                }
                Path file = output.dir().resolve(shard.fileName());
                writeShard(writer, shard, file, output.target().resolve(shard.fileName()), progress);
                progress.shardWritten(shard.index(), plan.shards().size());
                List<long[]> ranges = plan.groups().stream().filter(g -> g.shard() == shard.index())
                        .map(g -> new long[]{g.offset(), g.size()}).toList();
                hashes.add(ShardHasher.hash(file, shard.size(), o.chunkSize(), ranges, pool));
            }
            List<ShardHasher.Hashes> done = hashes.stream().map(ShardConverter::join).toList();
            Manifest m = manifest(ckpt, plan, o, done).withTokenizer(ckpt.bundleTokenizer(output.dir(), o.chunkSize()));
            byte[] json = ManifestCodec.toBytes(m);
            ManifestCodec.fromBytes(json, output.target().resolve(Manifest.FILE_NAME).toString());
            Files.write(output.dir().resolve(Manifest.FILE_NAME), json);
            return new Result(output.target(), m, Blake3.hashHex(json), plan.tensorBytes());
        } catch (IOException e) {
            throw new ConvertException(output.target().resolve(Manifest.FILE_NAME) + ": cannot write: "
                    + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void writeShard(ShardWriter writer, Shard shard, Path file, Path named, ProgressListener progress) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writer.begin(ch);
            for (Placement p : shard.placements()) {
                SourceTensor t = p.source();
                try {
                    writer.padTo(p.offset());
                    writer.write(t.data(), p.slice());
                } catch (IOException e) {
                    throw new ConvertException(named + ": writing tensor '" + t.name() + "': " + reason(e), e);
                } catch (InternalError | IllegalStateException e) {
                    // a fault reading the mapping: the source file shrank or vanished under us
                    throw new ConvertException(t.file() + ": tensor " + t.describe() + ": cannot read the source"
                            + " bytes (was the file changed while converting?): " + e.getMessage(), e);
                }
                progress.advance(p.slice().byteSize(), t.name());
            }
            writer.flush();
            if (writer.position() != shard.size()) {
                throw new ConvertException(named + ": wrote " + writer.position() + " bytes, planned " + shard.size());
            }
        } catch (IOException e) {
            throw new ConvertException(named + ": cannot write: " + reason(e), e);
        }
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new ConvertException("hashing failed: " + e.getCause(), e.getCause());
        }
    }

    private static Manifest manifest(ConvertSource ckpt, ShardPlan plan, ConvertOptions o,
                                     List<ShardHasher.Hashes> hashes) {
        List<ShardInfo> shards = new ArrayList<>();
        long total = 0;
        Map<String, String> groupHashes = new LinkedHashMap<>();
        for (Shard s : plan.shards()) {
            ShardHasher.Hashes h = hashes.get(s.index());
            shards.add(new ShardInfo(s.index(), s.fileName(), s.size(), h.whole(), h.chunks()));
            total += s.size();
            int k = 0;
            for (Group g : plan.groups()) {
                if (g.shard() == s.index()) {
                    groupHashes.put(g.id().groupName(), h.groupHashes().get(k++));
                }
            }
        }
        Map<String, List<TensorInfo>> tensors = new LinkedHashMap<>();
        Map<DType, Long> bytesByDtype = new EnumMap<>(DType.class);
        for (Map.Entry<String, List<Placement>> e : plan.byTensor().entrySet()) {
            List<TensorInfo> entries = new ArrayList<>();
            for (Placement p : e.getValue()) {
                SliceSpec s = p.slice();
                entries.add(new TensorInfo(p.shard(), p.offset(), s.byteSize(), s.storedShape(), p.source().dtype(),
                        p.role(), p.group(), s.layout(), s.originalShape(), s.sliceDim(), s.sliceIdx(),
                        s.sliceCount(), null));
                bytesByDtype.merge(p.source().dtype(), s.byteSize(), Long::sum);
            }
            tensors.put(e.getKey(), entries);
        }
        Map<String, GroupInfo> groups = new LinkedHashMap<>();
        long expertBytes = 0;
        Set<Integer> moeLayers = new HashSet<>();
        int maxExpert = -1;
        for (Group g : plan.groups()) {
            groups.put(g.id().groupName(), new GroupInfo(GroupInfo.EXPERT, g.id().layer(), g.id().expert(),
                    List.of(g.shard()), g.offset(), g.size(), g.tensors(), groupHashes.get(g.id().groupName())));
            expertBytes = Math.max(expertBytes, g.size());
            moeLayers.add(g.id().layer());
            maxExpert = Math.max(maxExpert, g.id().expert());
        }
        JsonNode config = ckpt.config();
        MoeConfig moe = null;
        if (!plan.groups().isEmpty()) {
            ModelFamily family = ModelFamily.fromConfig(config);
            int numExperts = Math.max(family.numExperts(config), maxExpert + 1);
            String format = family != ModelFamily.OTHER ? family.modelType()
                    : config.path("model_type").asText(ModelFamily.OTHER.modelType());
            moe = new MoeConfig(numExperts, ModelFamily.numExpertsPerToken(config), format, expertBytes,
                    moeLayers.size());
        }
        String quantization = bytesByDtype.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name()).orElse(null);
        String architecture = ckpt.architecture();
        return new Manifest(Manifest.CURRENT_VERSION, modelId(ckpt, o), "transformer", architecture, config,
                quantization, Manifest.HASH_BLAKE3, o.chunkSize(), o.layout(), total, moe, shards, tensors, groups);
    }

    private static String modelId(ConvertSource src, ConvertOptions o) {
        return o.modelId() != null ? o.modelId() : src.defaultModelId();
    }
}
