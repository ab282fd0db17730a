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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The RDRR-style manifest ({@code manifest.json}): every shard with its hashes, every tensor with its shard,
 * offset, size, shape, dtype and layout, and the expert groups. Field names follow DOPPLER's RDRR so that its
 * manifests read too; Strata adds chunk hashes, expert groups and TP slices. Immutable; see {@link ManifestCodec}.
 *
 * <p>{@code tensors} maps a tensor name to its entries: one entry, or one per TP slice (written as a JSON array).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"version", "modelId", "modelType", "architecture", "config", "quantization", "hashAlgorithm",
        "chunkSize", "defaultWeightLayout", "totalSize", "moeConfig", "shards", "tensors", "groups", "tokenizer"})
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
        TokenizerInfo tokenizer) {

    /** The format version this build writes; readers accept 1..CURRENT. */
    public static final int CURRENT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    public static final String HASH_BLAKE3 = "blake3";

    public Manifest {
        shards = shards == null ? List.of() : List.copyOf(shards);
        tensors = tensors == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        groups = groups == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(groups));
    }

    /** A manifest without a bundled tokenizer. */
    public Manifest(int version, String modelId, String modelType, String architecture, JsonNode config,
                    String quantization, String hashAlgorithm, long chunkSize, Layout defaultWeightLayout,
                    long totalSize, MoeConfig moeConfig, List<ShardInfo> shards, Map<String, List<TensorInfo>> tensors,
                    Map<String, GroupInfo> groups) {
        this(version, modelId, modelType, architecture, config, quantization, hashAlgorithm, chunkSize,
                defaultWeightLayout, totalSize, moeConfig, shards, tensors, groups, null);
    }

    public Manifest withTokenizer(TokenizerInfo t) {
        return new Manifest(version, modelId, modelType, architecture, config, quantization, hashAlgorithm, chunkSize,
                defaultWeightLayout, totalSize, moeConfig, shards, tensors, groups, t);
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

    @JsonIgnore
    public boolean isMoe() {
        return moeConfig != null && moeConfig.numExperts() > 0;
    }
}
