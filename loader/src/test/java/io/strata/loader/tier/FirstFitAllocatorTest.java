package io.strata.loader.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class FirstFitAllocatorTest {
    @Test
    void fragmentsAndCoalesces() {
        FirstFitAllocator a = new FirstFitAllocator(1000, 100);
        long[] off = new long[10];
        for (int i = 0; i < 10; i++) {
            off[i] = a.allocate(100);
            assertEquals(i * 100L, off[i]);
        }
        assertEquals(-1, a.allocate(1));
        for (int i = 0; i < 10; i += 2) {
            a.free(off[i], 100);
        }
        assertEquals(500, a.freeBytes());
        assertEquals(-1, a.allocate(200), "500 bytes free but no two adjacent: fragmentation is real");
        a.free(off[1], 100); // joins 0..300
        assertEquals(300, a.largestFree());
        assertEquals(0, a.allocate(250));
        assertThrows(IllegalStateException.class, () -> a.free(off[4], 100));
    }

    @Test
    void simulatedDeviceHasAFixedCapacityAndFreedBlocksThrow() {
        try (SimulatedDevice d = new SimulatedDevice(4096)) {
            Block a = d.allocate(2048);
            Block b = d.allocate(2048);
            assertTrue(a != null && b != null);
            assertEquals(null, d.allocate(1));
            a.segment().set(ValueLayout.JAVA_INT, 0, 42);
            a.free();
            assertThrows(IllegalStateException.class, () -> a.segment().get(ValueLayout.JAVA_INT, 0));
            Block c = d.allocate(1024);
            assertTrue(c != null);
            c.free();
            b.free();
        }
    }
}
