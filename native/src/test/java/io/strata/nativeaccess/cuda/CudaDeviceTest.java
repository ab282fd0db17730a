package io.strata.nativeaccess.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Device memory, pinned memory, streams and events on a real GPU; skipped (with the reason) without one. */
class CudaDeviceTest {
    private static CudaDevice device;

    @BeforeAll
    static void openDevice() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
        device = CudaDevice.openDefault().orElseThrow();
    }

    @AfterAll
    static void closeDevice() {
        if (device != null) {
            device.close();
        }
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void bytesSurviveARoundTripThroughDeviceMemory() {
        byte[] data = randomBytes(1 << 20, 1);
        try (Arena arena = Arena.ofConfined(); DeviceBuffer buffer = device.allocate(data.length)) {
            MemorySegment src = arena.allocate(data.length);
            MemorySegment.copy(data, 0, src, JAVA_BYTE, 0, data.length);
            buffer.copyFrom(0, src);
            MemorySegment back = arena.allocate(data.length);
            buffer.copyTo(0, back);
            assertArrayEquals(data, back.toArray(JAVA_BYTE));
            // A partial copy lands at its offset and leaves the rest alone.
            MemorySegment tail = arena.allocate(16);
            buffer.copyFrom(100, tail); // zeros
            buffer.copyTo(0, back);
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, 100, 116, (byte) 0);
            assertArrayEquals(expected, back.toArray(JAVA_BYTE));
        }
    }

    @Test
    void asyncUploadFromPinnedMemoryCompletesWhenItsEventDoes() {
        byte[] data = randomBytes(8 << 20, 2);
        try (PinnedHostBuffer pinned = device.allocatePinned(data.length);
             DeviceBuffer buffer = device.allocate(data.length);
             CudaStream copies = device.createStream();
             CudaEvent done = device.createEvent(false);
             Arena arena = Arena.ofConfined()) {
            MemorySegment.copy(data, 0, pinned.segment(), JAVA_BYTE, 0, data.length);
            buffer.copyFromAsync(0, pinned.segment(), copies);
            done.record(copies);
            done.synchronize();
            assertTrue(done.isComplete());
            MemorySegment back = arena.allocate(data.length);
            buffer.copyTo(0, back);
            assertArrayEquals(data, back.toArray(JAVA_BYTE));
        }
    }

    @Test
    void aRegisteredHostSegmentUploadsAsynchronously() {
        byte[] data = randomBytes(4 << 20, 3);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment host = arena.allocate(data.length, 4096);
            MemorySegment.copy(data, 0, host, JAVA_BYTE, 0, data.length);
            try (RegisteredHostMemory registered = device.register(host);
                 DeviceBuffer buffer = device.allocate(data.length);
                 CudaStream copies = device.createStream()) {
                buffer.copyFromAsync(0, registered.segment(), copies);
                copies.synchronize();
                MemorySegment back = arena.allocate(data.length);
                buffer.copyTo(0, back);
                assertArrayEquals(data, back.toArray(JAVA_BYTE));
            }
        }
    }

    @Test
    void aStreamCanWaitForAnotherStreamsEvent() {
        byte[] data = randomBytes(16 << 20, 4);
        try (PinnedHostBuffer pinned = device.allocatePinned(data.length);
             PinnedHostBuffer back = device.allocatePinned(data.length);
             DeviceBuffer buffer = device.allocate(data.length);
             CudaStream copies = device.createStream();
             CudaStream compute = device.createStream();
             CudaEvent uploaded = device.createEvent(false)) {
            MemorySegment.copy(data, 0, pinned.segment(), JAVA_BYTE, 0, data.length);
            buffer.copyFromAsync(0, pinned.segment(), copies);
            uploaded.record(copies);
            compute.waitFor(uploaded);
            buffer.copyToAsync(0, back.segment(), compute); // ordered after the upload by the event only
            compute.synchronize();
            assertArrayEquals(data, back.segment().toArray(JAVA_BYTE));
        }
    }

    @Test
    void timingEventsMeasureAnUpload() {
        try (PinnedHostBuffer pinned = device.allocatePinned(32 << 20);
             DeviceBuffer buffer = device.allocate(32 << 20);
             CudaStream s = device.createStream();
             CudaEvent start = device.createEvent(true);
             CudaEvent end = device.createEvent(true)) {
            start.record(s);
            buffer.copyFromAsync(0, pinned.segment(), s);
            end.record(s);
            end.synchronize();
            assertTrue(end.elapsedMillisSince(start) > 0f);
        }
    }

    @Test
    void theBudgetIsFreeMemoryMinusTheReserve() {
        long reserve = device.defaultReserveBytes();
        assertTrue(reserve >= CudaDevice.MIN_RESERVE_BYTES);
        CudaDriver.MemInfo before = device.memInfo();
        long budget = device.budgetBytes(reserve);
        CudaDriver.MemInfo after = device.memInfo();
        // Other processes may allocate concurrently: the budget lies between the two readings' values.
        long lo = Math.max(0, Math.min(before.freeBytes(), after.freeBytes()) - reserve);
        long hi = Math.max(0, Math.max(before.freeBytes(), after.freeBytes()) - reserve);
        assertTrue(budget >= lo && budget <= hi, budget + " not in [" + lo + ", " + hi + "]");
        assertEquals(0, device.budgetBytes(before.totalBytes() * 2));
        assertThrows(IllegalArgumentException.class, () -> device.budgetBytes(-1));
    }

    @Test
    void allocationsAreAccountedAndFreed() {
        long base = device.allocatedBytes();
        DeviceBuffer a = device.allocate(3 << 20);
        assertEquals(base + (3 << 20), device.allocatedBytes());
        a.close();
        a.close(); // idempotent
        assertEquals(base, device.allocatedBytes());
        assertTrue(device.highWaterBytes() >= base + (3 << 20));
    }

    @Test
    void closedResourcesRefuseUse() {
        DeviceBuffer buffer = device.allocate(4096);
        buffer.close();
        assertThrows(IllegalStateException.class, buffer::address);
        assertThrows(IllegalStateException.class, buffer::whole);
        PinnedHostBuffer pinned = device.allocatePinned(4096);
        MemorySegment segment = pinned.segment();
        pinned.close();
        assertThrows(IllegalStateException.class, pinned::segment);
        assertThrows(IllegalStateException.class, () -> segment.get(JAVA_BYTE, 0));
        CudaStream stream = device.createStream();
        stream.close();
        assertThrows(IllegalStateException.class, stream::synchronize);
    }

    @Test
    void closingADeviceFreesWhatIsStillOpenAndRefusesFurtherUse() {
        CudaDevice second = CudaDevice.open(CudaDriver.load().orElseThrow(), 0);
        DeviceBuffer leaked = second.allocate(1 << 20);
        PinnedHostBuffer pinned = second.allocatePinned(4096);
        second.close();
        assertTrue(leaked.isClosed());
        assertTrue(pinned.isClosed());
        assertThrows(IllegalStateException.class, () -> second.allocate(16));
        // The shared primary context is still retained by the class-wide device, which keeps working.
        try (DeviceBuffer ok = device.allocate(16)) {
            assertEquals(16, ok.byteSize());
        }
    }

    @Test
    void outOfRangeCopiesAndHeapSegmentsAreRejected() {
        try (DeviceBuffer buffer = device.allocate(1024); Arena arena = Arena.ofConfined()) {
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.copyFrom(1000, arena.allocate(100)));
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.slice(1000, 100));
            assertThrows(IllegalArgumentException.class, () -> buffer.copyFrom(0, MemorySegment.ofArray(new byte[8])));
        }
    }

    @Test
    void managedMemoryFilledByDmaIsReadableFromTheHostAndFreedClearly() {
        assumeTrue(device.supportsManagedMemory(), "this system cannot allocate managed memory");
        byte[] data = randomBytes(2 << 20, 5);
        ManagedBuffer managed = device.allocateManaged(data.length);
        try (PinnedHostBuffer pinned = device.allocatePinned(data.length);
             CudaStream copies = device.createStream()) {
            MemorySegment.copy(data, 0, pinned.segment(), JAVA_BYTE, 0, data.length);
            managed.copyFromAsync(0, pinned.segment(), copies);
            managed.prefetchToDevice(copies);
            copies.synchronize();
            assertArrayEquals(data, managed.segment().toArray(JAVA_BYTE));
            // And the other way: bytes the host writes reach a device-side copy.
            managed.segment().set(JAVA_BYTE, 7, (byte) 42);
            try (DeviceBuffer copy = device.allocate(16); Arena arena = Arena.ofConfined()) {
                MemorySegment back = arena.allocate(16);
                copy.copyFrom(0, managed.segment().asSlice(0, 16));
                copy.copyTo(0, back);
                assertEquals(42, back.get(JAVA_BYTE, 7));
            }
        }
        MemorySegment segment = managed.segment();
        managed.close();
        assertThrows(IllegalStateException.class, () -> segment.get(JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, managed::address);
    }
}
