package io.strata.loader.tier;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Host tier memory. Each block lives behind a shared arena of its own, so freeing a block closes its arena and any
 * segment still referring to it throws {@link IllegalStateException} instead of reading freed memory. Blocks come
 * from libc {@code aligned_alloc} and are handed out without zero-filling ({@code Arena.allocate} clears every
 * byte, a wasted pass over memory that a page-in overwrites at once); without libc, from {@code Arena.allocate}.
 * Blocks of {@link #PAGE_ALIGN_FROM} bytes or more are mapped with {@code mmap(MAP_ANONYMOUS)} and unmapped when
 * freed: they start on a page, so an {@code O_DIRECT} read can land in them with no bounce buffer
 * ({@link io.strata.loader.source.LocalReads}), and a freed block goes back to the kernel at once. Why not
 * {@code aligned_alloc} for them: glibc keeps freed blocks in its per-thread arenas once the dynamic mmap threshold
 * has risen past an expert's size, so with loads on several threads the process's anonymous memory grew far past
 * the host ledger's budget (the ledger must describe the real footprint). Smaller blocks (norms, biases) come from
 * {@code aligned_alloc} on 64 bytes.
 */
public final class HostMemory implements TierMemory {
    private static final long ALIGN = 64;
    /** Direct I/O alignment: a page. */
    public static final long PAGE = 4096;
    public static final long PAGE_ALIGN_FROM = 64 << 10;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    private static final int MADV_HUGEPAGE = 14;
    private static final long HUGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20; // Linux values

    static {
        MethodHandle alloc = null;
        MethodHandle free = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            alloc = linker.downcallHandle(libc.find("aligned_alloc").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            free = linker.downcallHandle(libc.find("free").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        } catch (RuntimeException | LinkageError e) {
            alloc = null;
        }
        ALIGNED_ALLOC = alloc;
        FREE = free;
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        MethodHandle madvise = null;
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                mmap = null;
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
    }

    /** {@code -Dstrata.host.hugepages=false} turns the huge-page hint off (for measurements). */
    private static final boolean HUGE_PAGES = !"false".equals(System.getProperty("strata.host.hugepages"));

    private volatile boolean closed;

    @Override
    @SuppressWarnings("restricted") // the raw block is bound to its own arena, which frees it exactly once
    public Block allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("host memory is closed");
        }
        Arena arena = Arena.ofShared();
        MemorySegment seg;
        try {
            long align = bytes >= PAGE_ALIGN_FROM ? PAGE : ALIGN;
            seg = align == PAGE && MMAP != null ? mapped(bytes, arena)
                    : ALIGNED_ALLOC == null ? arena.allocate(Math.max(1, bytes), align).asSlice(0, bytes)
                    : raw(bytes, align, arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        return Block.of(seg, arena::close);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment raw(long bytes, long align, Arena arena) {
        long size = Math.max(align, (bytes + align - 1) / align * align); // aligned_alloc wants a multiple
        MemorySegment p;
        try {
            p = (MemorySegment) ALIGNED_ALLOC.invokeExact(align, size);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed: " + t, t);
        }
        if (p.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("aligned_alloc of " + size + " bytes returned NULL");
        }
        return p.reinterpret(size, arena, HostMemory::release).asSlice(0, bytes);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment mapped(long bytes, Arena arena) {
        long size = (bytes + PAGE - 1) / PAGE * PAGE;
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1,
                    0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed: " + t, t);
        }
        if (p.address() == -1L || p.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("mmap of " + size + " bytes failed");
        }
        if (size >= HUGE && MADVISE != null && HUGE_PAGES) {
            try { // a hint: where transparent huge pages are "madvise", the read faults 2 MiB at a time
                int ignored = (int) MADVISE.invokeExact(p, size, MADV_HUGEPAGE);
            } catch (Throwable t) {
                // no huge pages: 4 KiB pages work the same
            }
        }
        return p.reinterpret(size, arena, q -> unmap(q, size)).asSlice(0, bytes);
    }

    private static void unmap(MemorySegment p, long size) {
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(p, size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed: " + t, t);
        }
        if (rc != 0) {
            throw new IllegalStateException("munmap of " + size + " bytes failed");
        }
    }

    private static void release(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed: " + t, t);
        }
    }

    /** Refuses new blocks; live blocks stay valid until freed (each lives in its own arena). */
    @Override
    public void close() {
        closed = true;
    }
}
