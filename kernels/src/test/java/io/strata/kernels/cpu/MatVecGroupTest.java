package io.strata.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.model.DType;
import io.strata.core.model.Layout;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A group of matvecs gives the bits of its entries run one by one on one thread, whatever the thread count, and on
 * two threads it is one loop of the team (what it is for: fewer loop openings and tails per decode step).
 */
class MatVecGroupTest {
    private static final int IN = 512;
    private static final int COUNT = 3;

    /** Entries of mixed dtypes, layouts, sizes (not multiples of 64), row sub-ranges and all four call forms. */
    private record Case(Tensors.Weight[] w, float[] x, float[][] outs) {
    }

    private static Case build(Arena arena, Random rnd) {
        Tensors.Weight[] w = {
            Tensors.random(arena, rnd, DType.BF16, Layout.ROW, 700, IN),
            Tensors.random(arena, rnd, DType.F32, Layout.COLUMN, 130, IN),
            Tensors.random(arena, rnd, DType.F16, Layout.ROW, 300, IN),
            Tensors.random(arena, rnd, DType.F16, Layout.ROW, 300, IN),
            Tensors.random(arena, rnd, DType.BF16, Layout.COLUMN, 257, IN),
            Tensors.random(arena, rnd, DType.BF16, Layout.COLUMN, 257, IN),
        };
        return new Case(w, Tensors.gaussian(rnd, 2 + COUNT * IN), null);
    }

    /** The group's entries (yStride 1000 for every output); outs: y0, y1, gate2, up2, gate4, up4. */
    private static MatVecGroup fill(MatVecGroup g, Case c, float[][] o) {
        Tensors.Weight[] w = c.w;
        return g.clear()
                .add(w[0].view(), c.x, 2, IN, COUNT, o[0], 1, 1000, 0, 700)
                .add(w[1].view(), c.x, 2, IN, 1, o[1], 0, 1000, 64, 130)
                .addGateUp(w[2].view(), w[3].view(), c.x, 2 + IN, IN, 1, o[2], o[3], 3, 1000, 5, 299)
                .addGateUp(w[4].view(), w[5].view(), c.x, 2, IN, COUNT, o[4], o[5], 0, 1000, 0, 257);
    }

    private static float[][] outputs() {
        return new float[6][1 + COUNT * 1000];
    }

    @Test
    void groupIsBitIdenticalToItsEntriesOneByOneOnOneAndTwoThreads() {
        Random rnd = new Random(11);
        for (Arena arena : new Arena[] {Arena.ofShared(), Arena.ofConfined()}) {
            Case c = build(arena, rnd);
            float[][] expected = outputs();
            MatVecGroup g = fill(new MatVecGroup(), c, expected);
            for (int i = 0; i < g.size(); i++) { // one by one, each in its own call form, single-threaded
                g.run(MatVec.vector(), i, g.rowFrom(i), g.rowFrom(i) + g.rows(i));
            }
            for (MatVec mv : new MatVec[] {MatVec.vector(), MatVec.vector(2), MatVec.vector(3)}) {
                float[][] got = outputs();
                mv.applyGroup(fill(g, c, got));
                for (int k = 0; k < got.length; k++) {
                    assertArrayEquals(expected[k], got[k], mv + " output " + k + " (" + arena + ")");
                }
            }
            // and equal to the plain calls a caller would otherwise make
            float[] y0 = new float[1 + COUNT * 1000];
            MatVec.vector().applyBatch(c.w[0].view(), c.x, 2, IN, COUNT, y0, 1, 1000, 0, 700);
            assertArrayEquals(y0, expected[0]);
            float[] gate = new float[1 + COUNT * 1000];
            float[] up = new float[1 + COUNT * 1000];
            MatVec.vector().applyGateUp(c.w[2].view(), c.w[3].view(), c.x, 2 + IN, gate, 3, up, 3, 5, 299);
            assertArrayEquals(gate, expected[2]);
            assertArrayEquals(up, expected[3]);
            assertEquals(0f, expected[1][0], "rows below the entry's range stay untouched");
            arena.close();
        }
    }

    @Test
    void twoThreadsRunAGroupAsOneLoop() {
        Random rnd = new Random(12);
        try (Arena arena = Arena.ofShared()) {
            Case c = build(arena, rnd);
            MatVecGroup g = fill(new MatVecGroup(), c, outputs());
            MatVec mv = MatVec.vector(2);
            WorkerTeam team = WorkerTeam.shared(2);
            WorkerTeam.Stats before = team.stats();
            mv.applyGroup(g);
            WorkerTeam.Stats d = team.stats().minus(before);
            assertEquals(1, d.loops(), "one loop for the group's four entries");
            assertEquals(704 + 128 + 320 + 320, d.items(), "each entry's rows (700, 66, 294, 257) padded to a multiple of 64");
            before = team.stats();
            g.runAll(mv);
            assertEquals(3, team.stats().minus(before).loops(), "one by one: a loop for each but the 66-row entry, too small to split");
        }
    }
}
