package io.strata.nativeaccess.posix;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real mappings of this process, checked against the kernel's own view of them (/proc/self/smaps). */
class AnonymousMemoryTest {
    private static final long MIB = 1L << 20;

    @BeforeEach
    void linuxOnly() {
        assumeTrue(AnonymousMemory.supported(), "anonymous mmap needs Linux");
    }

    @Test
    void hugePageBlockIsTwoMibAlignedExactlyMappedAndMarked() throws IOException {
        long bytes = 5 * MIB + 12345;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = AnonymousMemory.map(bytes, true, arena);
            assertEquals(bytes, m.byteSize());
            assertEquals(0, m.address() % AnonymousMemory.HUGE, "a huge-page block starts on 2 MiB");
            for (long off = 0; off < bytes; off += 4096) {
                assertEquals(0, m.get(JAVA_BYTE, off), "mapped memory is zeroed");
            }
            m.set(JAVA_LONG_UNALIGNED, bytes - 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, m.get(JAVA_LONG_UNALIGNED, bytes - 8));
            Vma v = vmaContaining(m.address());
            // the slack before and after went back to the kernel: the mapping is exactly the block, page-rounded
            assertEquals(m.address(), v.start, "the unaligned head was unmapped");
            assertEquals(m.address() + (bytes + 4095) / 4096 * 4096, v.end, "the slack after the block was unmapped");
            if (!thpMode().equals("never")) {
                assertEquals(1, v.thpEligible, "MADV_HUGEPAGE took: the kernel may back it with huge pages");
            }
        }
    }

    @Test
    void smallPagesWhenNotAskedOrTooSmall() throws IOException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment plain = AnonymousMemory.map(4 * MIB, false, arena);
            MemorySegment small = AnonymousMemory.map(100_000, true, arena);
            assertEquals(0, plain.address() % 4096);
            assertEquals(0, small.address() % 4096);
            assertEquals(100_000, small.byteSize());
            if (thpMode().equals("madvise")) { // under "always" every mapping is eligible
                assertEquals(0, vmaContaining(plain.address()).thpEligible, "no hint asked, none given");
            }
        }
    }

    @Test
    void closingTheArenaUnmapsTheBlock() throws IOException {
        Arena arena = Arena.ofShared();
        MemorySegment m = AnonymousMemory.map(3 * MIB, true, arena);
        long start = m.address();
        m.set(JAVA_BYTE, 0, (byte) 1);
        arena.close();
        assertThrows(IllegalStateException.class, () -> m.get(JAVA_BYTE, 0));
        Vma v = vmaContainingOrNull(start);
        assertTrue(v == null || v.start != start || v.end != start + 3 * MIB, "the block's mapping is gone");
    }

    @Test
    void refusesAnEmptyBlock() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> AnonymousMemory.map(0, true, arena));
        }
    }

    private record Vma(long start, long end, int thpEligible) {
    }

    private static Vma vmaContaining(long address) throws IOException {
        Vma v = vmaContainingOrNull(address);
        if (v == null) {
            throw new AssertionError("no mapping of this process contains 0x" + Long.toHexString(address));
        }
        return v;
    }

    private static Vma vmaContainingOrNull(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            int dash = l.indexOf('-');
            int space = l.indexOf(' ');
            if (dash <= 0 || space < dash || !l.substring(0, dash).matches("[0-9a-f]+")) {
                continue;
            }
            long s = Long.parseUnsignedLong(l.substring(0, dash), 16);
            long e = Long.parseUnsignedLong(l.substring(dash + 1, space), 16);
            if (address < s || address >= e) {
                continue;
            }
            int eligible = -1;
            for (int j = i + 1; j < lines.size() && !lines.get(j).matches("^[0-9a-f]+-.*"); j++) {
                if (lines.get(j).startsWith("THPeligible:")) {
                    eligible = Integer.parseInt(lines.get(j).substring("THPeligible:".length()).trim());
                }
            }
            return new Vma(s, e, eligible);
        }
        return null;
    }

    private static String thpMode() throws IOException {
        Path p = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!Files.exists(p)) {
            return "never";
        }
        String s = Files.readString(p).trim().toLowerCase(Locale.ROOT);
        int a = s.indexOf('[');
        return a < 0 ? "never" : s.substring(a + 1, s.indexOf(']'));
    }
}
