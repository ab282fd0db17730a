package io.strata.nativeaccess.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Private anonymous memory from {@code mmap}, freed by {@code munmap} when its arena closes, optionally on
 * transparent huge pages. Why a mapping of its own rather than {@code malloc}: a freed block goes back to the
 * kernel at once (a host tier that evicts and refills experts otherwise grows past its budget), and a block can be
 * placed on a 2 MiB boundary and marked {@code MADV_HUGEPAGE}. Why huge pages: a decode streams every weight byte
 * once per token, and on 4 KiB pages a core walks the page tables every 4 KiB. On an Intel Xeon the Q4_K decode
 * kernel alone, over one 256 MiB matrix, read 0.79 of a plain streaming read on 4 KiB pages and 0.87-0.90 on huge
 * ones (kernels/src/test/c/rows_ab.c with the weights madvised); the whole Q4_K_M decode of bench compute, A/B by
 * {@code -Dstrata.hugepages=false} in alternating runs, moved less than its run-to-run spread (56-62 tok/s either
 * way). Where transparent huge pages are "madvise" (a common default) nothing else gives them; where they are
 * "never" the hint changes nothing.
 *
 * <p>A huge-page block of {@code bytes} is mapped with 2 MiB of slack, the unaligned head and tail unmapped
 * again, so that every whole 2 MiB of it can be one page; the resident footprint stays {@code bytes} rounded to
 * 4 KiB (the partial last 2 MiB keeps small pages). Linux only: elsewhere {@link #supported()} is false.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class AnonymousMemory {
    /** The small page size the mapping is rounded to. */
    public static final long PAGE = 4096;
    /** The transparent huge page size (x86-64, and aarch64 with 4 KiB pages). */
    public static final long HUGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20; // Linux values
    private static final int MADV_HUGEPAGE = 14;
    /** {@code -Dstrata.hugepages=false} turns the huge-page placement and hint off (for measurements). */
    private static final boolean HUGE_PAGES = !"false".equals(System.getProperty("strata.hugepages"));
    private static final MethodHandle MMAP = Libc.function("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = Libc.function("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle MADVISE = Libc.function("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private AnonymousMemory() {
    }

    /** True where {@link #map} works (Linux). */
    public static boolean supported() {
        return MMAP != null && MUNMAP != null && MADVISE != null;
    }

    /**
     * {@code bytes} (at least 1) of zeroed memory, page-aligned, unmapped when {@code arena} closes. With
     * {@code hugePages} and at least {@link #HUGE} bytes (and not {@code -Dstrata.hugepages=false}), 2 MiB-aligned
     * and marked for transparent huge pages (a hint: a kernel that refuses it gives small pages). Throws
     * {@link OutOfMemoryError} when the kernel refuses the mapping, {@link UnsupportedOperationException} where
     * {@link #supported()} is false.
     */
    public static MemorySegment map(long bytes, boolean hugePages, Arena arena) {
        if (!supported()) {
            throw new UnsupportedOperationException("anonymous mmap is not available on this platform");
        }
        if (bytes < 1) {
            throw new IllegalArgumentException("a mapping of " + bytes + " bytes");
        }
        long size = (bytes + PAGE - 1) / PAGE * PAGE;
        boolean huge = hugePages && HUGE_PAGES && size >= HUGE;
        long reserve = huge ? size + HUGE : size;
        long base = mmap(reserve);
        long start = base;
        if (huge) {
            start = (base + HUGE - 1) / HUGE * HUGE;
            if (start > base) {
                munmap(base, start - base);
            }
            long end = start + size;
            if (base + reserve > end) {
                munmap(end, base + reserve - end);
            }
            try { // a hint: the kernel may still give small pages
                int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), size, MADV_HUGEPAGE);
            } catch (Throwable t) {
                // small pages work the same
            }
        }
        long at = start;
        return MemorySegment.ofAddress(at).reinterpret(size, arena, p -> munmap(at, size)).asSlice(0, bytes);
    }

    private static long mmap(long size) {
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS,
                    -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed: " + t, t);
        }
        if (p.address() == -1L || p.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("mmap of " + size + " bytes failed");
        }
        return p.address();
    }

    private static void munmap(long address, long size) {
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed: " + t, t);
        }
        if (rc != 0) {
            throw new IllegalStateException("munmap of " + size + " bytes at 0x" + Long.toHexString(address)
                    + " failed");
        }
    }
}
