package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.model.ModelFamily;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The RDRR-style manifest ({@code manifest.json}): every shard with its hashes, every tensor with its shard,
 * offset, size, shape, dtype and layout, and the expert groups. Field names follow DOPPLER's RDRR so that its
 * manifests read too; Strata adds chunk hashes, expert groups and TP slices. A manifest DOPPLER wrote is read into
 * this model by {@code DopplerManifest} (whole-shard SHA-256, per-tensor {@link BlockMerkle} roots, spans, no
 * groups). Immutable; see {@link ManifestCodec}.
 *
 * <p>{@code tensors} maps a tensor name to its entries: one entry, or one per TP slice (written as a JSON array).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"version", "modelId", "modelType", "architecture", "config", "quantization", "hashAlgorithm",
        "chunkSize", "defaultWeightLayout", "totalSize", "moeConfig", "shards", "tensors", "groups", "tokenizer",
        "integrityExtensions"})
public record Manifest(
        int version,
        String modelId,
        String modelType,
        String architecture,
        JsonNode config,
        String quantization,
        String hashAlgorithm,
        long chunkSize,
        Layout defaultWeightLayout,
        long totalSize,
        MoeConfig moeConfig,
        List<ShardInfo> shards,
        @JsonSerialize(using = TensorMapJson.Writer.class)
        @JsonDeserialize(using = TensorMapJson.Reader.class)
        Map<String, List<TensorInfo>> tensors,
        Map<String, GroupInfo> groups,
        TokenizerInfo tokenizer,
        IntegrityExtensions integrityExtensions) {

    /** The format version this build writes; readers accept 1..CURRENT. */
    public static final int CURRENT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    /** Standard BLAKE3 of each chunk and whole shard (what Strata writes). */
    public static final String HASH_BLAKE3 = "blake3";
    /** SHA-256 of each whole shard, no per-chunk hashes (DOPPLER's default). */
    public static final String HASH_SHA256 = "sha256";
    /**
     * Whole-shard hashes made by DOPPLER's own "blake3", which is not standard BLAKE3 (its hash of the empty input
     * is fda1200e..., not af1349b9...): they cannot be checked; tensors still can be through {@link BlockMerkle}.
     */
    public static final String HASH_DOPPLER_BLAKE3 = "doppler-blake3";
    /**
     * No hashes at all: the manifest Strata makes in memory for a GGUF file ({@code GgufManifest}), which carries
     * none. Never accepted in a {@code manifest.json}: a verifying read of such bytes is refused, and the runtime
     * reads them only as bytes it says are unverified.
     */
    public static final String HASH_NONE = "none";
    /** Config key under which a manifest reader records why Strata's decoder cannot run the model. */
    public static final String CONFIG_UNSUPPORTED = "strata_unsupported";

    public Manifest {
        shards = shards == null ? List.of() : List.copyOf(shards);
        tensors = tensors == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        groups = groups == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(groups));
    }

    /** A manifest without a bundled tokenizer or integrity extensions (what Strata's converter writes first). */
    public Manifest(int version, String modelId, String modelType, String architecture, JsonNode config,
                    String quantization, String hashAlgorithm, long chunkSize, Layout defaultWeightLayout,
                    long totalSize, MoeConfig moeConfig, List<ShardInfo> shards, Map<String, List<TensorInfo>> tensors,
                    Map<String, GroupInfo> groups) {
        this(version, modelId, modelType, architecture, config, quantization, hashAlgorithm, chunkSize,
                defaultWeightLayout, totalSize, moeConfig, shards, tensors, groups, null, null);
    }

    public Manifest withTokenizer(TokenizerInfo t) {
        return new Manifest(version, modelId, modelType, architecture, config, quantization, hashAlgorithm, chunkSize,
                defaultWeightLayout, totalSize, moeConfig, shards, tensors, groups, t, integrityExtensions);
    }

    /** The single entry of an unsliced tensor. */
    public TensorInfo tensor(String name) {
        List<TensorInfo> list = tensors.get(name);
        if (list == null) {
            throw new ManifestException("manifest: no tensor named '" + name + "'");
        }
        if (list.size() != 1) {
            throw new ManifestException("manifest: tensor '" + name + "' has " + list.size()
                    + " TP slices; ask for one slice");
        }
        return list.getFirst();
    }

    public Optional<GroupInfo> expertGroup(ExpertId id) {
        return Optional.ofNullable(groups.get(id.groupName()));
    }

    public ShardInfo shard(int index) {
        if (index < 0 || index >= shards.size() || shards.get(index).index() != index) {
            throw new ManifestException("manifest: no shard with index " + index);
        }
        return shards.get(index);
    }

    /** The hash algorithm of the shard hashes (BLAKE3 when the manifest does not say). */
    @JsonIgnore
    public String hashAlgorithmOrBlake3() {
        return hashAlgorithm == null ? HASH_BLAKE3 : hashAlgorithm;
    }

    /** Whether the shards carry per-chunk BLAKE3 hashes (Strata's manifests); else only whole-shard hashes. */
    @JsonIgnore
    public boolean hasChunkHashes() {
        return HASH_BLAKE3.equals(hashAlgorithmOrBlake3());
    }

    /** Whether the manifest has any hash to check its bytes against (false only for a GGUF file's). */
    @JsonIgnore
    public boolean hasHashes() {
        return !HASH_NONE.equals(hashAlgorithm);
    }

    /** The per-tensor block Merkle roots, when the manifest has them. */
    @JsonIgnore
    public Optional<BlockMerkle> blockMerkle() {
        return Optional.ofNullable(integrityExtensions == null ? null : integrityExtensions.blockMerkle());
    }

    /**
     * Why Strata's decoder cannot run this model, from the manifest alone (empty when it can, as far as the manifest
     * tells): no config, a reason a manifest reader recorded ({@link #CONFIG_UNSUPPORTED}), or a family the decoder
     * does not run.
     */
    @JsonIgnore
    public Optional<String> decoderProblem() {
        return decoderProblem(config);
    }

    /** {@link #decoderProblem()} of a model with this config (a manifest's, or a checkpoint's config.json). */
    public static Optional<String> decoderProblem(JsonNode config) {
        if (config == null || !config.isObject()) {
            return Optional.of("the manifest has no config");
        }
        JsonNode why = config.get(CONFIG_UNSUPPORTED);
        if (why != null && why.isTextual()) {
            return Optional.of(why.asText());
        }
        ModelFamily f = ModelFamily.fromConfig(config);
        if (!f.decoderSupported()) {
            return Optional.of("model_type '" + config.path("model_type").asText("") + "' is not a family Strata's"
                    + " decoder runs (" + String.join(", ", ModelFamily.decoderSupportedTypes()) + ")");
        }
        return Optional.empty();
    }

    @JsonIgnore
    public boolean isMoe() {
        return moeConfig != null && moeConfig.numExperts() > 0;
    }
}
