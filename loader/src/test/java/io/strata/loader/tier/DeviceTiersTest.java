package io.strata.loader.tier;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Tier;
import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import io.strata.loader.cache.Filler;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeviceTiersTest {
    private static final long MIB = 1 << 20;

    /** A driver that cannot be present, so that the fallback is exercised on every machine. */
    private static final CudaDriver.Availability NO_CUDA = CudaDriver.probe("libstrata-no-such-cuda-driver.so.1");

    private static void assumeCuda() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
    }

    @Test
    void aZeroBudgetMeansNoDeviceTier() {
        assertTrue(DeviceTiers.open(0, MIB).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> DeviceTiers.open(-2, MIB));
    }

    @Test
    void withoutCudaTheSimulatedDeviceGetsExactlyTheRequestedBudget() {
        assertFalse(NO_CUDA.isPresent());
        try (DeviceTiers.DeviceTier tier = DeviceTiers.open(8 * MIB, MIB, NO_CUDA).orElseThrow()) {
            assertFalse(tier.isCuda());
            assertTrue(tier.memory() instanceof SimulatedDevice);
            assertEquals(8 * MIB, tier.usableBytes());
            MemoryLedger ledger = tier.newLedger();
            assertEquals(8 * MIB, ledger.usable());
            Filler below = (id, dst) -> Tier.HOST;
            assertSame(below, tier.filler(below), "no upload path without a GPU");
            try (Reservation r = ledger.reserve(Pool.EXPERTS, 4 * MIB)) {
                Block b = tier.memory().allocate(r.bytes());
                assertNotNull(b);
                b.free();
            }
        }
    }

    @Test
    void autoWithoutCudaMeansNoDeviceTier() {
        assertTrue(DeviceTiers.open(DeviceTiers.AUTO, MIB, NO_CUDA).isEmpty());
    }

    @Test
    void onAGpuTheBudgetIsFreeVramMinusTheReserve() {
        assumeCuda();
        try (DeviceTiers.DeviceTier tier = DeviceTiers.open(DeviceTiers.AUTO, MIB).orElseThrow()) {
            assertTrue(tier.isCuda(), tier.description());
            CudaDevice device = ((CudaDeviceMemory) tier.memory()).device();
            assertEquals(device.defaultReserveBytes(), tier.reserveBytes());
            assertTrue(tier.budgetBytes() <= device.totalBytes());
            assertEquals(tier.budgetBytes() - tier.reserveBytes(), ((CudaDeviceMemory) tier.memory()).capacity());
            assertEquals(tier.usableBytes(), tier.newLedger().usable());
        }
    }

    @Test
    void onAGpuARequestIsCappedAndBlocksBeyondCapacityAreRefused() {
        assumeCuda();
        try (DeviceTiers.DeviceTier tier = DeviceTiers.open(8 * MIB, MIB).orElseThrow()) {
            assertTrue(tier.isCuda(), tier.description());
            assertEquals(8 * MIB, tier.usableBytes());
            Block a = tier.memory().allocate(6 * MIB);
            assertNotNull(a);
            assertNull(tier.memory().allocate(3 * MIB), "over capacity: refused like a full device");
            a.free();
            Block b = tier.memory().allocate(8 * MIB);
            assertNotNull(b);
            b.free();
        }
    }

    @Test
    void onAGpuBlocksAreFilledThroughPinnedStagingAndReadableFromTheHost() throws Exception {
        assumeCuda();
        byte[] expert = new byte[3 * (int) MIB + 17];
        new Random(7).nextBytes(expert);
        AtomicLong writtenAt = new AtomicLong();
        Filler below = (id, dst) -> {
            writtenAt.set(dst.address());
            MemorySegment.copy(expert, 0, dst, JAVA_BYTE, 0, expert.length);
            return Tier.HOST;
        };
        try (DeviceTiers.DeviceTier tier = DeviceTiers.open(16 * MIB, expert.length).orElseThrow()) {
            Block block = tier.memory().allocate(expert.length);
            Tier from = tier.filler(below).fill(new ExpertId(0, 1), block.segment());
            assertEquals(Tier.HOST, from);
            assertNotEquals(block.segment().address(), writtenAt.get(), "the tier below wrote the block directly");
            assertArrayEquals(expert, block.segment().toArray(JAVA_BYTE));
            MemorySegment stale = block.segment();
            block.free();
            assertThrows(IllegalStateException.class, () -> stale.get(JAVA_BYTE, 0));
            assertEquals(0, ((CudaDeviceMemory) tier.memory()).allocatedBytes());
        }
    }

    @Test
    void onAGpuABlockLargerThanAStagingSlotIsFilledDirectly() throws Exception {
        assumeCuda();
        byte[] big = new byte[2 * (int) MIB];
        new Random(8).nextBytes(big);
        Filler below = (id, dst) -> {
            MemorySegment.copy(big, 0, dst, JAVA_BYTE, 0, big.length);
            return Tier.DISK;
        };
        try (DeviceTiers.DeviceTier tier = DeviceTiers.open(16 * MIB, MIB).orElseThrow()) {
            Block block = tier.memory().allocate(big.length);
            assertEquals(Tier.DISK, tier.filler(below).fill(new ExpertId(1, 0), block.segment()));
            assertArrayEquals(big, block.segment().toArray(JAVA_BYTE));
            block.free();
        }
    }
}
