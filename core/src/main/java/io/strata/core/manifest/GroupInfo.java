package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Tensors stored together and loaded with one range read: an expert's w1/w3/w2 (type {@code expert}), or a
 * layer's dense tensors. {@code hash} is the BLAKE3 of the group's byte range [offset, offset+size) in its shard.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GroupInfo(
        String type,
        Integer layerIndex,
        Integer expertIndex,
        List<Integer> shards,
        long offset,
        long size,
        List<String> tensors,
        String hash) {

    public static final String EXPERT = "expert";

    public GroupInfo {
        shards = shards == null ? List.of() : List.copyOf(shards);
        tensors = tensors == null ? List.of() : List.copyOf(tensors);
    }

    public boolean isExpert() {
        return EXPERT.equals(type);
    }

    public int shard() {
        return shards.getFirst();
    }
}
