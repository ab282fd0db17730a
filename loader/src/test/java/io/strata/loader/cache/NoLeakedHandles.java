package io.strata.loader.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class whose code dropped an {@link ExpertHandle} without closing it. Registered for every test of
 * the modules that page experts (JUnit's extension auto-detection, see META-INF/services); the tests run with
 * {@code -Dstrata.leakDetection=paranoid}, so the report says where the handle was opened.
 */
public final class NoLeakedHandles implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        List<String> reports = HandleLeakDetector.collectAndDrain(25);
        assertEquals(List.of(), reports, context.getDisplayName() + " leaked expert handles");
    }
}
