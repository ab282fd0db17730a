package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Subtree chaining values are nodes of the whole input's tree: combining them must give Bouncy Castle's hash of the
 * whole input, which is computed with no knowledge of subtrees.
 */
class SubtreeChainingValueTest {

    @Test
    void oneMiBSubtreesCombineToTheWholeFileHash() {
        for (int len : new int[]{(2 << 20), (3 << 20) + 1, (4 << 20) + 1024, (5 << 20) - 1}) {
            byte[] data = Oracle.random(len, len);
            assertArrayEquals(Oracle.hash(data), rootFromPieces(data, 1 << 20), "len " + len);
        }
    }

    @Test
    void smallSubtreesAndSingleChunks() {
        for (int len : new int[]{2048, 3000, 7 * 1024 + 5, 64 * 1024 + 1}) {
            byte[] data = Oracle.random(len, len);
            assertArrayEquals(Oracle.hash(data), rootFromPieces(data, 1024), "1 KiB pieces, len " + len);
            if (len > 4096) {
                assertArrayEquals(Oracle.hash(data), rootFromPieces(data, 4096), "4 KiB pieces, len " + len);
            }
        }
    }

    @Test
    void parentOfTwoChunksIsTheRootsChildLevel() {
        // 4 chunks: root = parent(parent(c0, c1), parent(c2, c3)).
        byte[] data = Oracle.random(4096, 31);
        MemorySegment seg = MemorySegment.ofArray(data);
        byte[][] c = new byte[4][];
        for (int i = 0; i < 4; i++) {
            c[i] = Blake3.subtreeChainingValue(seg.asSlice(1024L * i, 1024), i);
        }
        byte[] left = Blake3Tree.parentChainingValue(c[0], c[1]);
        byte[] right = Blake3Tree.parentChainingValue(c[2], c[3]);
        assertArrayEquals(Oracle.hash(data), Blake3Tree.rootHash(left, right));
        assertArrayEquals(left, Blake3.subtreeChainingValue(seg.asSlice(0, 2048), 0));
        assertArrayEquals(right, Blake3.subtreeChainingValue(seg.asSlice(2048, 2048), 2));
    }

    @Test
    void misalignedSubtreesAreRejected() {
        MemorySegment twoChunks = MemorySegment.ofArray(new byte[2048]);
        assertThrows(IllegalArgumentException.class, () -> Blake3.subtreeChainingValue(twoChunks, 1));
        assertThrows(IllegalArgumentException.class, () -> Blake3.subtreeChainingValue(twoChunks.asSlice(0, 1500), 3));
        assertThrows(IllegalArgumentException.class, () -> Blake3Tree.rootFromSubtrees(List.of(new byte[32])));
    }

    private static byte[] rootFromPieces(byte[] data, int piece) {
        MemorySegment seg = MemorySegment.ofArray(data);
        List<byte[]> cvs = new ArrayList<>();
        for (long off = 0; off < data.length; off += piece) {
            long n = Math.min(piece, data.length - off);
            cvs.add(Blake3.subtreeChainingValue(seg.asSlice(off, n), off / 1024));
        }
        return Blake3Tree.rootFromSubtrees(cvs);
    }
}
