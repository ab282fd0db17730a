package io.strata.kernels.cpu;

import java.util.Locale;
import java.util.Optional;

/**
 * Which implementation runs the F32/F16/BF16 row kernels of {@link MatVec#vector()}: the Java Vector API code or
 * its native twin ({@link NativeKernels}). Both give the same bits, so the choice is process-wide and may change
 * at any time (a benchmark alternates them round by round) without changing any result.
 *
 * <p>Configured by the system property {@value #PROPERTY} or else the environment variable {@value #ENV}:
 * {@code java}, {@code native} or {@code auto} (the default: native where available). {@code native} where the
 * native kernels are unavailable logs why and runs Java.
 */
public enum CpuKernels {
    JAVA, NATIVE;

    public static final String PROPERTY = "strata.kernels";
    public static final String ENV = "STRATA_KERNELS";

    /** The configured choice: JAVA, NATIVE, or empty for auto. */
    static CpuKernels configured() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            v = System.getenv(ENV);
        }
        if (v == null || v.isBlank()) {
            return null;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "java" -> JAVA;
            case "native" -> NATIVE;
            case "auto" -> null;
            default -> throw new IllegalArgumentException(PROPERTY + "/" + ENV + ": '" + v
                    + "' is not java, native or auto");
        };
    }

    /** What runs now. */
    public static CpuKernels active() {
        return NativeKernels.enabled ? NATIVE : JAVA;
    }

    /** Why the native kernels cannot run here; empty when they can. */
    public static Optional<String> nativeUnavailable() {
        return Optional.ofNullable(NativeKernels.UNAVAILABLE);
    }

    /** Switches the process to {@code k}; NATIVE where unavailable throws, naming why. */
    public static void use(CpuKernels k) {
        if (k == NATIVE && NativeKernels.UNAVAILABLE != null) {
            throw new IllegalStateException("native kernels unavailable: " + NativeKernels.UNAVAILABLE);
        }
        NativeKernels.enabled = k == NATIVE;
    }

    /** One line for a report: what runs, and where the native library is or why it is not used. */
    public static String describe() {
        if (NativeKernels.UNAVAILABLE != null) {
            return "java (native unavailable: " + NativeKernels.UNAVAILABLE + ")";
        }
        return active().name().toLowerCase(Locale.ROOT) + " (native library " + NativeKernels.LIBRARY + ")";
    }
}
