package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Per-tensor block Merkle roots (DOPPLER's {@code integrityExtensions.blockMerkle}): for each named tensor, the root
 * of a binary SHA-256 tree over its stored bytes (its spans concatenated) cut into {@code blockSize} blocks. Leaves
 * are the SHA-256 of each block (the last may be short; an empty tensor has the one leaf SHA-256("")); a parent is
 * the SHA-256 of its two children's 32-byte digests side by side, an odd last node is paired with itself, and a
 * single leaf is the root. Roots are written {@code sha256:<64 hex>}. This lets one tensor be checked without
 * hashing its whole shard; {@code io.strata.storage.model.ShardHasher} computes it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BlockMerkle(long blockSize, Map<String, String> roots) {
    /** The digest prefix of every root. */
    public static final String PREFIX = "sha256:";

    public BlockMerkle {
        roots = roots == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(roots));
    }

    /** The root of {@code tensor} as lowercase hex without the prefix, when the manifest gives one. */
    public Optional<String> rootHex(String tensor) {
        String r = roots.get(tensor);
        return r == null ? Optional.empty() : Optional.of(r.substring(PREFIX.length()));
    }
}
