package io.strata.nativeaccess.posix;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/** Downcall handles to the C library for this package's POSIX calls, on Linux only (their constants are Linux's). */
@SuppressWarnings("restricted") // native downcalls: the JVM runs with --enable-native-access
final class Libc {
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .contains("linux");

    private Libc() {
    }

    /** The C library's {@code name} with {@code descriptor}, or null off Linux or where it cannot be linked. */
    static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        if (!LINUX) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(a -> linker.downcallHandle(a, descriptor, options))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
