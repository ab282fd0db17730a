package io.strata.loader.kv;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child process for {@link KvSpillLitterTest}: a KV store under {@code args[0]} with a two-page fast budget and
 * no host budget, filled until a page is in its spill file (as {@code run --kv-budget} would); then it says
 * "ready" and waits for "exit" on stdin (or a signal), so the test can signal or kill it with spill files on
 * disk.
 */
public final class HoldSpill {
    private HoldSpill() {
    }

    public static void main(String[] args) throws Exception {
        int kvDim = PagedKvStoreTest.KV_DIM;
        int t = 8;
        try (PagedKvStore store = PagedKvStore.create(KvOptions.defaults().withSpillRoot(Path.of(args[0]))
                .withFastBudget(2L * 2 * t * kvDim * Float.BYTES).withHostBudget(0).withPaging(t, t));
             PagedKvSequence seq = store.newSequence(kvDim, 1)) {
            for (int pos = 0; pos < 4 * t; pos++) {
                seq.append(0, PagedKvStoreTest.row(7, 0, pos, false), PagedKvStoreTest.row(7, 0, pos, true));
            }
            Path spill = store.spillDirectory().resolve("seq-" + seq.id() + ".kvspill");
            if (!Files.isRegularFile(spill) || Files.size(spill) == 0) {
                throw new IllegalStateException("nothing spilled to " + spill);
            }
            System.out.println("ready " + spill);
            System.out.flush();
            // only "exit" ends it normally; at end of input (Process.destroy closes the pipes) it waits for the
            // signal, so a test sees what the signal alone leaves behind
            if (!"exit".equals(new BufferedReader(new InputStreamReader(System.in)).readLine())) {
                Thread.sleep(Long.MAX_VALUE);
            }
        }
    }
}
