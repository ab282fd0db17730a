package io.strata.loader.runtime;

import io.strata.core.memory.MemoryLedger;
import io.strata.core.memory.Pool;
import io.strata.core.memory.Reservation;
import io.strata.core.weights.TensorView;
import io.strata.loader.tier.Block;
import io.strata.loader.tier.TierMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dense tensors and TP slices copied into the compute tier once and kept for the runtime's lifetime, reserved in
 * the WEIGHTS pool of that tier's ledger before allocation.
 */
final class ResidentTensors implements AutoCloseable {
    interface Reader {
        void read(MemorySegment dst) throws IOException;
    }

    private record Held(TensorView view, Block block, Reservation reservation) {
    }

    private final MemoryLedger ledger;
    private final TierMemory memory;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private boolean closed;

    ResidentTensors(MemoryLedger ledger, TierMemory memory) {
        this.ledger = ledger;
        this.memory = memory;
    }

    interface ViewFactory {
        TensorView make(MemorySegment data);
    }

    synchronized TensorView get(String key, long bytes, Reader reader, ViewFactory view) {
        if (closed) {
            throw new IllegalStateException("model runtime is closed");
        }
        Held h = held.get(key);
        if (h != null) {
            return h.view();
        }
        Reservation r = ledger.reserve(Pool.WEIGHTS, bytes);
        Block b = null;
        try {
            b = memory.allocate(bytes);
            if (b == null) {
                throw new io.strata.core.memory.BudgetExceededException(ledger.tier(), Pool.WEIGHTS, bytes,
                        ledger.available(), 0, "no contiguous block of that size is free");
            }
            reader.read(b.segment());
            h = new Held(view.make(b.segment()), b, r);
            held.put(key, h);
            return h.view();
        } catch (IOException e) {
            free(b, r);
            throw new UncheckedIOException("cannot load tensor " + key + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            free(b, r);
            throw e;
        }
    }

    private static void free(Block b, Reservation r) {
        if (b != null) {
            b.free();
        }
        r.close();
    }

    @Override
    public synchronized void close() {
        closed = true;
        List<Held> all = new ArrayList<>(held.values());
        held.clear();
        for (Held h : all) {
            free(h.block(), h.reservation());
        }
    }
}
