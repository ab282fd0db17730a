package io.strata.storage.convert;

import io.strata.core.model.Layout;
import io.strata.core.model.Role;
import io.strata.core.model.TensorNaming;
import io.strata.core.model.TpSplit;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides how one tensor is stored: transposed or not, and cut into TP slices the Megatron way. With
 * {@code --layout column} every 2-D weight is stored transposed ([in, out]) except the embedding table, whose
 * rows are gathered per token (a transposed table would turn each lookup into a strided gather). Column-parallel
 * weights (q/k/v, w1/w3, gate/up) are cut along {@code out}, row-parallel ones (o, w2/down) along {@code in};
 * embeddings, lm_head, routers, norms and 1-D tensors are replicated. Block-quantised tensors (GGUF) are
 * planned in whole blocks: they are never transposed, and a cut along {@code in} must fall between blocks.
 */
final class SlicePlanner {
    private SlicePlanner() {
    }

    static List<SliceSpec> plan(SourceTensor t, Role role, Layout layout, int tp) {
        long[] shape = t.shape();
        List<Long> original = toList(shape);
        int e = t.unitBytes();
        if (shape.length != 2) {
            long units = t.dtype().bytesFor(shape) / e;
            return List.of(new SliceSpec(t.name(), 1, units, 0, 1, 0, units, false, original, original, Layout.ROW,
                    null, 0, 1, e));
        }
        long rows = shape[0];
        long cols = t.unitCols();
        int bs = t.dtype().blockSize();
        boolean transpose = layout == Layout.COLUMN && role != Role.EMBEDDING;
        if (transpose && t.dtype().isQuantized()) {
            throw new ConvertException(t.file() + ": tensor " + t.describe() + ": " + t.dtype() + " is block-quantised ("
                    + bs + " elements per block along a row): it cannot be stored transposed; convert with --layout row");
        }
        Layout stored = transpose ? Layout.COLUMN : Layout.ROW;
        TpSplit split = TensorNaming.tpSplit(t.name(), 2);
        if (split == TpSplit.REPLICATED) {
            return List.of(new SliceSpec(t.name(), rows, cols, 0, rows, 0, cols, transpose,
                    transpose ? List.of(shape[1], rows) : original, original, stored, null, 0, 1, e, t.rowPitch(),
                    t.colPitch()));
        }
        boolean cutRows = split == TpSplit.COLUMN_PARALLEL; // cut along out = source dim 0
        long cutLen = cutRows ? rows : shape[1];
        if (cutLen % tp != 0) {
            throw new ConvertException(t.file() + ": tensor " + t.describe() + ": dimension "
                    + (cutRows ? "out" : "in") + " = " + cutLen + " of shape " + original
                    + " is not divisible by --tp " + tp);
        }
        if (!cutRows && (cutLen / tp) % bs != 0) {
            throw new ConvertException(t.file() + ": tensor " + t.describe() + ": dimension in = " + cutLen
                    + " cut by --tp " + tp + " gives slices of " + cutLen / tp + " elements, not a whole number of "
                    + t.dtype() + " blocks (" + bs + " elements)");
        }
        long part = (cutRows ? rows : cols) / tp;
        // sliceDim indexes the stored shape: out is stored dim 1 when transposed, dim 0 when not.
        int sliceDim = cutRows ? (transpose ? 1 : 0) : (transpose ? 0 : 1);
        List<SliceSpec> out = new ArrayList<>(tp);
        for (int i = 0; i < tp; i++) {
            long r0 = cutRows ? i * part : 0;
            long r1 = cutRows ? r0 + part : rows;
            long c0 = cutRows ? 0 : i * part;
            long c1 = cutRows ? cols : c0 + part;
            List<Long> storedShape = transpose ? List.of(c1 - c0, r1 - r0) : List.of(r1 - r0, (c1 - c0) * bs);
            out.add(new SliceSpec(t.name(), rows, cols, r0, r1, c0, c1, transpose, storedShape, original, stored,
                    sliceDim, i, tp, e, t.rowPitch(), t.colPitch()));
        }
        return out;
    }

    private static List<Long> toList(long[] a) {
        List<Long> l = new ArrayList<>(a.length);
        for (long v : a) {
            l.add(v);
        }
        return List.copyOf(l);
    }
}
