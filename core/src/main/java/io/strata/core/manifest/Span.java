package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A byte range of one shard. DOPPLER stores a tensor larger than a shard as consecutive spans in several shards
 * (read, never written by Strata); the runtime also describes every load (a tensor, an expert) as the list of
 * spans whose concatenation it is ({@link TensorInfo#ranges()}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Span(int shardIndex, long offset, long size) {
}
