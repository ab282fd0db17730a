package io.strata.storage.convert;

import io.strata.core.model.Layout;

/**
 * How {@link ShardConverter} lays a checkpoint out.
 *
 * @param layout    ROW keeps the checkpoint's byte order; COLUMN stores 2-D weights transposed ([in, out])
 * @param tp        tensor-parallel degree: column-/row-parallel weights are cut into this many slices
 * @param shardSize target shard size in bytes (an expert group or a tensor larger than this gets its own shard)
 * @param chunkSize bytes per chunk hash
 * @param modelId   the manifest's modelId; null = the source directory's name
 * @param force     replace an existing output directory (atomically) instead of refusing
 */
public record ConvertOptions(Layout layout, int tp, long shardSize, long chunkSize, String modelId, boolean force) {
    public static final long DEFAULT_SHARD_SIZE = 64L << 20;
    public static final long DEFAULT_CHUNK_SIZE = 1L << 20;
    /** Every tensor (and TP slice) starts at a multiple of this. */
    public static final long TENSOR_ALIGNMENT = 64;
    /** Every expert group starts at a multiple of this (a page), so an expert maps without neighbours. */
    public static final long GROUP_ALIGNMENT = 4096;

    public ConvertOptions {
        if (layout == null) {
            layout = Layout.ROW;
        }
        if (tp < 1) {
            throw new IllegalArgumentException("--tp must be at least 1, got " + tp);
        }
        if (shardSize < GROUP_ALIGNMENT) {
            throw new IllegalArgumentException("--shard-size must be at least " + GROUP_ALIGNMENT + " bytes, got "
                    + shardSize);
        }
        if (chunkSize < 1024 || chunkSize > (1L << 30)) {
            throw new IllegalArgumentException("--chunk-size must be between 1KiB and 1GiB, got " + chunkSize);
        }
    }

    public static ConvertOptions defaults() {
        return new ConvertOptions(Layout.ROW, 1, DEFAULT_SHARD_SIZE, DEFAULT_CHUNK_SIZE, null, false);
    }

    public ConvertOptions withLayout(Layout l, int tensorParallel) {
        return new ConvertOptions(l, tensorParallel, shardSize, chunkSize, modelId, force);
    }

    public ConvertOptions withShardSize(long bytes) {
        return new ConvertOptions(layout, tp, bytes, chunkSize, modelId, force);
    }

    public ConvertOptions withChunkSize(long bytes) {
        return new ConvertOptions(layout, tp, shardSize, bytes, modelId, force);
    }

    public ConvertOptions withForce(boolean f) {
        return new ConvertOptions(layout, tp, shardSize, chunkSize, modelId, f);
    }

    public ConvertOptions withModelId(String id) {
        return new ConvertOptions(layout, tp, shardSize, chunkSize, id, force);
    }
}
