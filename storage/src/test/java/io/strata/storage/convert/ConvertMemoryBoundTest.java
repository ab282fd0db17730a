package io.strata.storage.convert;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Conversion memory is bounded up front: a checkpoint whose tensor entries would not fit the heap is refused with
 * the figure, instead of an OutOfMemoryError halfway (300 k tensors with a small heap used to end that way).
 */
class ConvertMemoryBoundTest {
    @Test
    void tooManyTensorEntriesForThisHeapAreRefusedWithTheFigure() {
        long max = Runtime.getRuntime().maxMemory();
        int tensors = (int) Math.min(Integer.MAX_VALUE, max / 1536 + 1);
        ConvertException e = assertThrows(ConvertException.class,
                () -> ShardConverter.checkHeap(Path.of("ckpt"), tensors, 1));
        assertTrue(e.getMessage().contains("ckpt") && e.getMessage().contains(tensors + " tensors")
                && e.getMessage().contains("of heap") && e.getMessage().contains("-Xmx"), e.getMessage());
        assertThrows(ConvertException.class, () -> ShardConverter.checkHeap(Path.of("ckpt"), tensors / 8 + 1, 8),
                "TP slices multiply the entries");
    }

    @Test
    void anOrdinaryCheckpointPasses() {
        ShardConverter.checkHeap(Path.of("ckpt"), 40_000, 1); // Qwen3-235B has about 37 k tensors
    }
}
