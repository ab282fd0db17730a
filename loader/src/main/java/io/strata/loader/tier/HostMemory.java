package io.strata.loader.tier;

import io.strata.nativeaccess.posix.AnonymousMemory;
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
 * freed ({@link AnonymousMemory}; from 2 MiB on, placed on a 2 MiB boundary and marked for transparent huge pages,
 * unless {@code -Dstrata.hugepages=false}): they start on a page, so an {@code O_DIRECT} read can land in them with
 * no bounce buffer ({@link io.strata.loader.source.LocalReads}), and a freed block goes back to the kernel at
 * once. Why not {@code aligned_alloc} for them: glibc keeps freed blocks in its per-thread arenas once the dynamic
 * mmap threshold has risen past an expert's size, so with loads on several threads the process's anonymous memory
 * grew far past the host ledger's budget (the ledger must describe the real footprint). Smaller blocks (norms,
 * biases) come from {@code aligned_alloc} on 64 bytes.
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
            seg = align == PAGE && AnonymousMemory.supported() ? AnonymousMemory.map(bytes, true, arena)
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
