package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.Layout;
import io.strata.storage.model.ConvertedModel;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads every tensor of a converted model back through its manifest and compares it with the source, using a
 * naive element-by-element reconstruction from the manifest's own description (layout, originalShape,
 * sliceDim/sliceIdx/sliceCount) rather than the converter's code.
 */
final class RoundTrip {
    private RoundTrip() {
    }

    static void assertRoundTrip(Path src, Path out) {
        try (Checkpoint ckpt = Checkpoint.open(src); ConvertedModel model = ConvertedModel.open(out)) {
            Manifest m = model.manifest();
            assertEquals(ckpt.tensors().keySet(), m.tensors().keySet(), "every tensor, names verbatim");
            for (SafetensorsTensor t : ckpt.tensors().values()) {
                List<TensorInfo> entries = m.tensors().get(t.name());
                byte[] source = t.data().toArray(ValueLayout.JAVA_BYTE);
                for (int i = 0; i < entries.size(); i++) {
                    TensorInfo e = entries.get(i);
                    assertEquals(t.dtype(), e.dtype(), t.name());
                    assertEquals(0, e.offset() % 64, t.name() + " 64-byte aligned");
                    byte[] expected = expected(source, t.shape(), e, t.dtype().byteSize());
                    byte[] actual = model.tensorSlice(t.name(), i).toArray(ValueLayout.JAVA_BYTE);
                    assertArrayEquals(expected, actual, t.name() + " slice " + i);
                }
            }
            for (ShardInfo s : m.shards()) {
                MemorySegment seg = model.shardSegment(s.index());
                assertEquals(s.hash(), Blake3.hashHex(seg), "shard hash " + s.index());
                for (int c = 0; c < s.chunks().size(); c++) {
                    long off = s.chunkStart(c, m.chunkSize());
                    assertEquals(s.chunks().get(c), Blake3.hashHex(seg.asSlice(off, s.chunkLength(c, m.chunkSize()))));
                }
            }
            for (Map.Entry<String, GroupInfo> g : m.groups().entrySet()) {
                GroupInfo gi = g.getValue();
                assertEquals(0, gi.offset() % 4096, g.getKey() + " page aligned");
                assertNotNull(gi.hash());
                assertEquals(gi.hash(), Blake3.hashHex(model.group(g.getKey())), g.getKey() + " group hash");
            }
        }
    }

    /** The stored bytes the manifest entry promises, built element by element from the source. */
    static byte[] expected(byte[] source, long[] shape, TensorInfo e, int es) {
        if (shape.length != 2) {
            assertEquals(Layout.ROW, e.layoutOrRow());
            assertEquals(1, e.sliceCountOrOne());
            return source;
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        assertEquals(List.of((long) rows, (long) cols), e.originalShape());
        boolean t = e.layoutOrRow() == Layout.COLUMN;
        int sr = t ? cols : rows; // full stored shape
        int sc = t ? rows : cols;
        int[] lo = {0, 0};
        int[] hi = {sr, sc};
        if (e.sliceCountOrOne() > 1) {
            int d = e.sliceDim();
            int full = d == 0 ? sr : sc;
            int part = full / e.sliceCountOrOne();
            lo[d] = part * e.sliceIdxOrZero();
            hi[d] = lo[d] + part;
        }
        assertEquals(List.of((long) (hi[0] - lo[0]), (long) (hi[1] - lo[1])), e.shape(), "stored shape");
        byte[] out = new byte[(hi[0] - lo[0]) * (hi[1] - lo[1]) * es];
        int k = 0;
        for (int i = lo[0]; i < hi[0]; i++) {
            for (int j = lo[1]; j < hi[1]; j++) {
                int r = t ? j : i;
                int c = t ? i : j;
                System.arraycopy(source, (r * cols + c) * es, out, k, es);
                k += es;
            }
        }
        return out;
    }
}
