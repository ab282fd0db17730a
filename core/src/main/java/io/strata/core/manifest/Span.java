package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** DOPPLER's way to store a tensor larger than a shard: consecutive pieces in several shards. Read, never written. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Span(int shardIndex, long offset, long size) {
}
