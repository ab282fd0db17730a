package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The manifest's {@code integrityExtensions} (DOPPLER's RDRR field of that name, contract version 1): hashes finer
 * than a whole shard, for manifests that have no per-chunk hashes. Only {@link BlockMerkle} is read; other parts
 * (DOPPLER's kernel {@code lowerings}) describe no bytes and are ignored.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record IntegrityExtensions(Integer contractVersion, BlockMerkle blockMerkle) {
    /** The one contract version this build reads. */
    public static final int CONTRACT_VERSION = 1;
}
