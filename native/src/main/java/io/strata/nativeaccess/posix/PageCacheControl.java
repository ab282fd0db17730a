package io.strata.nativeaccess.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Asks the kernel to drop a file's clean pages from the page cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)}),
 * so that a benchmark can measure a cold read without root (no {@code drop_caches}). Linux only; elsewhere it
 * reports that it cannot.
 */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
public final class PageCacheControl {
    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final MethodHandle OPEN = Libc.function("open", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FADVISE = Libc.function("posix_fadvise", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = Libc.function("close", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));

    private PageCacheControl() {
    }

    public static boolean supported() {
        return OPEN != null && FADVISE != null && CLOSE != null;
    }

    /** Drops {@code file}'s cached pages; empty on success, else why not. */
    public static Optional<String> evict(Path file) {
        return evict(file, 0, 0);
    }

    /**
     * Drops the cached pages of {@code length} bytes of {@code file} from {@code offset} (0 = to the end): what a
     * reader that has copied a range into memory of its own calls, so the page cache does not keep a second copy.
     */
    public static Optional<String> evict(Path file, long offset, long length) {
        if (!supported()) {
            return Optional.of("posix_fadvise is not available on this platform");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment path = a.allocateFrom(file.toAbsolutePath().toString());
            int fd = (int) OPEN.invokeExact(path, O_RDONLY);
            if (fd < 0) {
                return Optional.of("cannot open " + file);
            }
            try {
                int rc = (int) FADVISE.invokeExact(fd, offset, length, POSIX_FADV_DONTNEED);
                return rc == 0 ? Optional.empty() : Optional.of("posix_fadvise failed with " + rc);
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable t) {
            return Optional.of("posix_fadvise call failed: " + t);
        }
    }
}
