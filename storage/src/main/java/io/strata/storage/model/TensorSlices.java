package io.strata.storage.model;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.Layout;
import io.strata.core.model.TensorNaming;
import io.strata.core.model.TpSplit;
import java.util.List;

/**
 * The one answer to "which bytes does TP rank r of n load for tensor t", used by {@link ConvertedModel} and the
 * runtime alike. A tensor the converter cut into slices gives the slice with that {@code sliceIdx} (and must have
 * been cut for n ranks); a tensor stored once is the whole tensor on every rank when it is replicated (TP never
 * cuts it, or the model was converted for TP and chose to keep it whole); otherwise (a parallel weight of a model
 * converted without TP) rank r reads the r-th contiguous cut of the stored rows.
 */
public final class TensorSlices {
    /** Ranks as the model was converted: the slice count of a sliced tensor, the whole of a replicated one. */
    public static final int AS_CONVERTED = 0;

    /**
     * The bytes one rank loads. {@code entry} is the manifest entry they lie in; {@code offset}/{@code size} are
     * the byte range inside its shard (the entry's own range unless {@link #isCut()}); {@code logicalShape} is the
     * checkpoint-order shape of that part.
     */
    public record Part(String name, TensorInfo entry, long offset, long size, long[] logicalShape) {
        /** True when the part is a runtime cut of a larger stored tensor (a sub-range of {@code entry}). */
        public boolean isCut() {
            return offset != entry.offset() || size != entry.size();
        }
    }

    private final Manifest manifest;
    private final String source;
    private final int convertedTp;

    public TensorSlices(Manifest manifest, String source) {
        this.manifest = manifest;
        this.source = source;
        int tp = 1;
        for (List<TensorInfo> entries : manifest.tensors().values()) {
            tp = Math.max(tp, entries.getFirst().sliceCountOrOne());
        }
        this.convertedTp = tp;
    }

    /** The part of {@code name} that rank {@code rank} of {@code tpSize} loads ({@link #AS_CONVERTED}: as cut). */
    public Part resolve(String name, int rank, int tpSize) {
        if (rank < 0 || tpSize < 0 || (tpSize != AS_CONVERTED && rank >= tpSize)) {
            throw new IllegalArgumentException("tensor '" + name + "': TP rank " + rank
                    + (tpSize == AS_CONVERTED ? "" : " of " + tpSize) + " is not a valid rank");
        }
        List<TensorInfo> entries = manifest.tensors().get(name);
        if (entries == null) {
            throw new ManifestException(source + ": no tensor named '" + name + "'");
        }
        TensorInfo first = entries.getFirst();
        int slices = first.sliceCountOrOne();
        if (slices > 1) {
            if (tpSize != AS_CONVERTED && tpSize != slices) {
                throw new ManifestException(source + ": tensor '" + name + "' was converted for TP " + slices
                        + ", not " + tpSize);
            }
            TensorInfo t = entries.stream().filter(e -> e.sliceIdxOrZero() == rank).findFirst().orElseThrow(
                    () -> new ManifestException(source + ": tensor '" + name + "' has " + slices
                            + " TP slices, no slice " + rank));
            return new Part(name, t, t.offset(), t.size(), storedToLogical(t));
        }
        long[] logical = first.logicalShape().stream().mapToLong(Long::longValue).toArray();
        if (tpSize == AS_CONVERTED || tpSize == 1 || convertedTp > 1
                || TensorNaming.tpSplit(name, logical.length) == TpSplit.REPLICATED) {
            return new Part(name, first, first.offset(), first.size(), logical);
        }
        if (first.spans() != null) {
            throw new ManifestException(source + ": tensor '" + name + "' is split into spans across shards;"
                    + " it cannot be cut into TP parts at run time");
        }
        long rows = first.shape().getFirst();
        if (rows % tpSize != 0) {
            throw new ManifestException(source + ": tensor '" + name + "' has " + rows + " stored rows, not"
                    + " divisible into " + tpSize + " TP slices");
        }
        long rowBytes = first.size() / rows;
        long part = rows / tpSize;
        // stored dim 0 is logical dim 1 for a column-major tensor, logical dim 0 for a row-major one
        int cutDim = first.layoutOrRow() == Layout.COLUMN && logical.length > 1 ? 1 : 0;
        logical[cutDim] = logical[cutDim] / tpSize;
        return new Part(name, first, first.offset() + rank * part * rowBytes, part * rowBytes, logical);
    }

    /** Logical shape of a converter-made slice: the stored shape, transposed back when column-major. */
    private static long[] storedToLogical(TensorInfo t) {
        long[] s = t.shape().stream().mapToLong(Long::longValue).toArray();
        if (t.layoutOrRow() == Layout.COLUMN && s.length == 2) {
            return new long[]{s[1], s[0]};
        }
        return s;
    }
}
