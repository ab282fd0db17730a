package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The incremental hasher, fed in pieces of every shape, against Bouncy Castle over the whole input. */
class Blake3HasherTest {

    @Test
    void randomSplitsMatchBouncyCastle() {
        Random rnd = new Random(5);
        try (ParallelBlake3 parallel = new ParallelBlake3(2)) {
            for (int trial = 0; trial < 40; trial++) {
                int len = trial < 30 ? rnd.nextInt(20_000) : rnd.nextInt(3 << 20);
                byte[] data = Oracle.random(len, trial);
                byte[] expected = Oracle.hash(data);
                Blake3Hasher h = (trial % 2 == 0 ? parallel : new ParallelBlake3(1)).newHasher();
                int off = 0;
                while (off < len) {
                    // Mix tiny, chunk-sized and large pieces so every branch of update() sees every alignment.
                    int max = switch (rnd.nextInt(3)) {
                        case 0 -> 70;
                        case 1 -> 3000;
                        default -> 600_000;
                    };
                    int n = Math.min(len - off, rnd.nextInt(max + 1));
                    h.update(data, off, n);
                    off += n;
                }
                assertEquals(len, h.length());
                assertArrayEquals(expected, h.digest(), "trial " + trial + " len " + len);
            }
        }
    }

    @Test
    void powerOfTwoUpdatesEndingOnSubtreeBoundaries() {
        // Updates that end exactly on a subtree boundary leave an empty chunk state: digest() must use the stack top.
        for (int len : new int[]{2048, 4096, 1 << 16, 1 << 20, 3 << 20}) {
            byte[] data = Oracle.pattern(len);
            Blake3Hasher h = Blake3.newHasher();
            h.update(data, 0, 1024);
            h.update(data, 1024, len - 1024);
            assertArrayEquals(Oracle.hash(data), h.digest(), "len " + len);
            assertArrayEquals(Oracle.hash(data), Blake3.newHasher().update(data).digest(), "one update, len " + len);
        }
    }

    @Test
    void byteAtATimeAcrossChunkBoundaries() {
        byte[] data = Oracle.random(5 * 1024 + 3, 9);
        Blake3Hasher h = Blake3.newHasher();
        for (int i = 0; i < data.length; i++) {
            h.update(data, i, 1);
            if (i % 1024 == 1023 || i == 0) {
                assertArrayEquals(Oracle.hash(data, 0, i + 1), h.digest(), "prefix " + (i + 1));
            }
        }
        assertArrayEquals(Oracle.hash(data), h.digest());
    }

    @Test
    void digestDoesNotDisturbFurtherUpdatesAndResetStartsOver() {
        byte[] data = Oracle.random(300_000, 11);
        Blake3Hasher h = Blake3.newHasher();
        h.update(data, 0, 150_000);
        assertArrayEquals(Oracle.hash(data, 0, 150_000), h.digest());
        assertArrayEquals(Oracle.hash(data, 0, 150_000), h.digest());
        h.update(data, 150_000, 150_000);
        assertArrayEquals(Oracle.hash(data), h.digest());
        h.reset();
        assertEquals(0, h.length());
        assertArrayEquals(Oracle.hash(new byte[0]), h.digest());
        h.update(MemorySegment.ofArray(data));
        assertArrayEquals(Oracle.hash(data), h.digest());
    }

    @Test
    void byteBufferUpdateConsumesTheBuffer() {
        byte[] data = Oracle.random(70_000, 12);
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
        direct.position(100);
        Blake3Hasher h = Blake3.newHasher().update(direct);
        assertEquals(direct.limit(), direct.position());
        assertArrayEquals(Oracle.hash(data, 100, data.length - 100), h.digest());
    }

    @Test
    void keyedIncrementalMatchesBouncyCastle() {
        byte[] key = Oracle.random(32, 77);
        byte[] data = Oracle.random(1_234_567, 78);
        Blake3Hasher h = Blake3.newKeyedHasher(key);
        h.update(data, 0, 1000).update(data, 1000, 500_000).update(data, 501_000, data.length - 501_000);
        assertArrayEquals(Oracle.keyed(key, data), h.digest());
    }
}
