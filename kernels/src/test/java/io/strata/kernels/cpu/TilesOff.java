package io.strata.kernels.cpu;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(TilesOff.class)}: each test starts with the K-quants' tile form off
 * ({@link NativeKQuantInt8#useTiles}), for tests of the batch form's bit-for-bit contract, and the setting it found
 * is restored afterwards (a test may turn the form on itself).
 */
public final class TilesOff implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(TilesOff.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("was", NativeKQuantInt8.useTiles(false));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        NativeKQuantInt8.useTiles(context.getStore(NS).remove("was", Boolean.class));
    }
}
