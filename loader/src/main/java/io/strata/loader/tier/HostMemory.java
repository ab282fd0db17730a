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
 * Blocks of {@link #PAGE_ALIGN_FROM} bytes or more start on a 4 KiB page, so an {@code O_DIRECT} read can land in
 * them with no bounce buffer ({@link io.strata.loader.source.LocalReads}); smaller ones (norms, biases) on 64 bytes.
 */
public final class HostMemory implements TierMemory {
    private static final long ALIGN = 64;
    /** Direct I/O alignment: a page. */
    public static final long PAGE = 4096;
    public static final long PAGE_ALIGN_FROM = 64 << 10;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;

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
    }

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
            seg = ALIGNED_ALLOC == null ? arena.allocate(Math.max(1, bytes), align).asSlice(0, bytes)
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
