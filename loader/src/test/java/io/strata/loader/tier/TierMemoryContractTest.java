package io.strata.loader.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link TierMemory} must do (Lucene's BaseDirectoryTestCase is the model): each implementation's test
 * extends this and says how to make one.
 */
abstract class TierMemoryContractTest {
    static final long CAPACITY = 1 << 20;

    TierMemory memory;

    /** A fresh memory; fixed-capacity implementations hold at most {@link #CAPACITY} bytes. */
    abstract TierMemory create();

    /** The capacity beyond which {@code allocate} returns null, when the implementation has one. */
    abstract OptionalLong fixedCapacity();

    @BeforeEach
    void open() {
        memory = create();
    }

    @AfterEach
    void closeMemory() {
        memory.close();
    }

    @Test
    void blocksAreAlignedExactlySizedAndWritable() {
        for (long size : new long[]{1, 63, 64, 4096, 100_003}) {
            Block b = memory.allocate(size);
            assertNotNull(b, "allocate " + size);
            MemorySegment s = b.segment();
            assertEquals(size, s.byteSize());
            assertEquals(0, s.address() % 64, "64-byte aligned");
            s.fill((byte) 0x5a);
            assertEquals((byte) 0x5a, s.get(ValueLayout.JAVA_BYTE, size - 1));
            b.free();
        }
    }

    @Test
    void liveBlocksDoNotOverlap() {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Block b = memory.allocate(8192 + 64L * i);
            assertNotNull(b);
            b.segment().fill((byte) i);
            blocks.add(b);
        }
        for (int i = 0; i < blocks.size(); i++) {
            MemorySegment s = blocks.get(i).segment();
            for (long at = 0; at < s.byteSize(); at += 511) {
                assertEquals((byte) i, s.get(ValueLayout.JAVA_BYTE, at), "block " + i + " at " + at);
            }
        }
        blocks.forEach(Block::free);
    }

    @Test
    void freedBlocksThrowInsteadOfReachingMemory() {
        Block b = memory.allocate(4096);
        MemorySegment s = b.segment();
        b.free();
        b.free(); // idempotent
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void closeRefusesNewBlocksButKeepsLiveOnes() {
        Block live = memory.allocate(4096);
        live.segment().fill((byte) 7);
        memory.close();
        assertThrows(IllegalStateException.class, () -> memory.allocate(64));
        assertEquals((byte) 7, live.segment().get(ValueLayout.JAVA_BYTE, 4095), "a live block outlives close");
        live.free();
    }

    @Test
    void fixedCapacityRefusesWithNullAndRecoversAfterFree() {
        OptionalLong cap = fixedCapacity();
        if (cap.isEmpty()) {
            return; // host memory has no fixed capacity: the ledger is its only limit
        }
        Block all = memory.allocate(cap.getAsLong());
        assertNotNull(all, "the whole capacity fits");
        assertNull(memory.allocate(64), "no room left: null, not an exception");
        all.free();
        Block again = memory.allocate(cap.getAsLong() / 2);
        assertNotNull(again, "freed room is reused");
        again.free();
    }

    @Test
    void concurrentAllocateAndFreeKeepBlocksIntact() throws Exception {
        Thread[] threads = new Thread[4];
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads.length; t++) {
            byte mark = (byte) (t + 1);
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        Block b = memory.allocate(16384);
                        if (b == null) {
                            continue; // fixed capacity momentarily full
                        }
                        b.segment().fill(mark);
                        assertTrue(b.segment().elements(ValueLayout.JAVA_BYTE).allMatch(x -> x.get(ValueLayout.JAVA_BYTE, 0) == mark));
                        b.free();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
