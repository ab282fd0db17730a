package io.strata.storage.gguf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.MoeConfig;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Role;
import io.strata.core.model.TensorNaming;
import io.strata.storage.safetensors.CheckpointException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF file seen as a Strata manifest, so that {@code run}, {@code score}, {@code inspect} and the runtime read a
 * llama.cpp model in place, with no conversion; what {@code DopplerManifest} is for DOPPLER's manifests, this is for
 * GGUF, and every GGUF specific of reading in place is here:
 * <ul>
 *   <li>The file is the one "shard" (index 0, its own file name). GGUF carries no hashes: the manifest's
 *   {@code hashAlgorithm} is {@link Manifest#HASH_NONE}, so verifying reads refuse its bytes and the runtime reads
 *   them as unverified (and says so); a converted model keeps the integrity rule.</li>
 *   <li>Tensors get the Hugging Face names of the family ({@link TensorNaming#fromGguf}); the config is
 *   {@link GgufModelConfig#hfConfig} (with {@code rope_interleaved} for arch {@code llama}, whose q/k rows are kept
 *   as stored).</li>
 *   <li>Each routed expert is three row ranges of the layer's fused {@code blk.N.ffn_{gate,up,down}_exps} tensors
 *   (expert outermost: expert e's rows are bytes [e * out * rowBytes(in), (e + 1) * ...)), listed as per-expert
 *   tensors with group {@code expert.L.E} and no groups map, so the runtime's expert is three range reads
 *   ({@code ExpertLayout.fromTensors}). Older files' per-expert {@code blk.N.ffn_gate.E.weight} are read too.
 *   Quantised blocks are never cut: a row is a whole number of blocks, which the reader checked.</li>
 *   <li>Tensors the decoder would not read, and metadata that changes what the model computes (RoPE scaling,
 *   partial rotary), make the config say why the model cannot run ({@link Manifest#CONFIG_UNSUPPORTED}), never a
 *   guess; {@code inspect} still shows the file.</li>
 * </ul>
 */
public final class GgufManifest {
    /** Bytes per piece were such a model ever moved between peers (it has no chunks of its own). */
    static final long TRANSFER_CHUNK = 4L << 20;
    private static final Pattern FUSED = Pattern.compile("blk\\.(\\d{1,9})\\.(ffn_gate_exps|ffn_up_exps|ffn_down_exps)"
            + "\\.weight");
    private static final Pattern PER_EXPERT = Pattern.compile("blk\\.(\\d{1,9})\\.ffn_(gate|up|down)\\.(\\d{1,9})"
            + "\\.weight");

    private GgufManifest() {
    }

    /** Whether {@code path} names a GGUF file (by its extension, as llama.cpp's tools do). */
    public static boolean isGguf(Path path) {
        Path name = path.getFileName();
        return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** Opens, validates and describes the GGUF file {@code path}. */
    public static Manifest read(Path path) {
        try (GgufFile g = GgufFile.open(path)) {
            return of(g);
        }
    }

    /** The manifest of an open GGUF file. */
    public static Manifest of(GgufFile g) {
        String src = g.path().toString();
        ObjectNode config = GgufModelConfig.hfConfig(g);
        ModelFamily family = ModelFamily.fromConfig(config);
        String arch = g.metadata().string("general.architecture");
        List<String> unsupported = new ArrayList<>();
        long fileSize = g.mapping().size();
        Map<String, List<TensorInfo>> tensors = new LinkedHashMap<>();
        Map<ExpertId, Long> expertBytes = new HashMap<>();
        TreeSet<String> types = new TreeSet<>();
        for (GgufTensor t : g.tensors()) {
            types.add(t.dtype().manifestName());
            Matcher fused = FUSED.matcher(t.name());
            Matcher single = PER_EXPERT.matcher(t.name());
            if (fused.matches()) {
                int layer = Integer.parseInt(fused.group(1));
                ExpertProjection p = projection(fused.group(2).substring(0, fused.group(2).length() - 5));
                if (t.rank() != 3) {
                    throw new CheckpointException(src + ": tensor '" + t.name() + "': fused experts must have 3"
                            + " dimensions [experts, out, in], got " + Arrays.toString(t.shape()));
                }
                long experts = t.dim(0);
                long out = t.dim(1);
                long in = t.dim(2);
                long per = Math.multiplyExact(out, t.dtype().rowBytes(in));
                if (Math.multiplyExact(per, experts) != t.byteSize()) {
                    throw new CheckpointException(src + ": tensor '" + t.name() + "': " + t.byteSize()
                            + " bytes, but " + experts + " experts of " + out + " x " + in + " " + t.dtype()
                            + " are " + per * experts);
                }
                for (int e = 0; e < experts; e++) {
                    ExpertId id = new ExpertId(layer, e);
                    put(tensors, src, family.expertTensorName(layer, e, p), expert(id, t.fileOffset() + e * per, per,
                            List.of(out, in), t.dtype()));
                    expertBytes.merge(id, per, Long::sum);
                }
            } else if (single.matches()) {
                ExpertId id = new ExpertId(Integer.parseInt(single.group(1)), Integer.parseInt(single.group(3)));
                ExpertProjection p = projection(single.group(2));
                if (t.rank() != 2) {
                    throw new CheckpointException(src + ": tensor '" + t.name() + "': an expert's projection must"
                            + " have 2 dimensions, got " + Arrays.toString(t.shape()));
                }
                put(tensors, src, family.expertTensorName(id.layer(), id.expert(), p), expert(id, t.fileOffset(),
                        t.byteSize(), List.of(t.dim(0), t.dim(1)), t.dtype()));
                expertBytes.merge(id, t.byteSize(), Long::sum);
            } else {
                Optional<String> hf = TensorNaming.fromGguf(t.name(), family);
                if (hf.isEmpty()) {
                    unsupported.add("tensor '" + t.name() + "' is not one Strata's decoder reads");
                    // still listed (under its own name) so inspect shows every byte of the file
                }
                String name = hf.orElse(t.name());
                List<Long> shape = Arrays.stream(t.shape()).boxed().toList();
                put(tensors, src, name, new TensorInfo(0, t.fileOffset(), t.byteSize(), shape, t.dtype(),
                        TensorNaming.role(name, t.rank()), null, Layout.ROW, null, null, null, null, null));
            }
        }
        checkMetadata(g, arch, config, unsupported);
        if (!unsupported.isEmpty()) {
            config.put(Manifest.CONFIG_UNSUPPORTED, "GGUF file " + g.path().getFileName() + ": "
                    + String.join("; ", unsupported));
        }
        MoeConfig moe = null;
        if (!expertBytes.isEmpty()) {
            TreeMap<Integer, Integer> layers = new TreeMap<>();
            expertBytes.keySet().forEach(id -> layers.merge(id.layer(), 1, Integer::sum));
            moe = new MoeConfig(family.numExperts(config), ModelFamily.numExpertsPerToken(config),
                    family.modelType(), expertBytes.values().stream().mapToLong(Long::longValue).max().orElse(0),
                    layers.size());
        }
        String file = g.path().getFileName().toString();
        String modelId = g.metadata().optionalString("general.name").orElse(file.substring(0, file.length() - 5));
        return new Manifest(Manifest.CURRENT_VERSION, modelId, family.modelType(),
                family == ModelFamily.OTHER ? null : family.hfArchitecture(), config, String.join("+", types),
                Manifest.HASH_NONE, TRANSFER_CHUNK, Layout.ROW, fileSize, moe,
                List.of(new ShardInfo(0, file, fileSize, null, List.of())), tensors, Map.of());
    }

    private static ExpertProjection projection(String ggufKind) {
        return switch (ggufKind) {
            case "ffn_gate", "gate" -> ExpertProjection.GATE;
            case "ffn_up", "up" -> ExpertProjection.UP;
            case "ffn_down", "down" -> ExpertProjection.DOWN;
            default -> throw new IllegalArgumentException(ggufKind);
        };
    }

    private static TensorInfo expert(ExpertId id, long offset, long size, List<Long> shape, DType dtype) {
        return new TensorInfo(0, offset, size, shape, dtype, Role.EXPERT, id.groupName(), Layout.ROW, null, null,
                null, null, null);
    }

    private static void put(Map<String, List<TensorInfo>> tensors, String src, String name, TensorInfo t) {
        if (tensors.put(name, List.of(t)) != null) {
            throw new CheckpointException(src + ": tensor '" + name + "' is given twice (as fused and as"
                    + " per-expert tensors, or under two GGUF names)");
        }
    }

    /** Metadata that would change what the model computes, which the decoder does not do. */
    private static void checkMetadata(GgufFile g, String arch, ObjectNode config, List<String> unsupported) {
        GgufMetadata m = g.metadata();
        m.optionalString(arch + ".rope.scaling.type").filter(t -> !t.equals("none"))
                .ifPresent(t -> unsupported.add("metadata '" + arch + ".rope.scaling.type' is '" + t
                        + "' (the decoder has no RoPE scaling)"));
        m.optionalReal(arch + ".rope.scaling.factor").stream().filter(f -> f != 0 && f != 1).findFirst()
                .ifPresent(f -> unsupported.add("metadata '" + arch + ".rope.scaling.factor' is " + f));
        long headDim = config.path("head_dim").asLong();
        m.optionalInteger(arch + ".rope.dimension_count").stream().filter(d -> d != headDim).findFirst()
                .ifPresent(d -> unsupported.add("metadata '" + arch + ".rope.dimension_count' is " + d
                        + ", not the head size " + headDim + " (partial rotary is not supported)"));
        m.optionalInteger(arch + ".expert_shared_count").stream().filter(n -> n > 0).findFirst()
                .ifPresent(n -> {
                    if (!ModelFamily.fromConfig(config).hasSharedExpert()) {
                        unsupported.add("metadata '" + arch + ".expert_shared_count' is " + n);
                    }
                });
    }
}
