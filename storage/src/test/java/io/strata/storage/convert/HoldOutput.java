package io.strata.storage.convert;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child process for {@link InterruptedConvertTest}: opens an {@link AtomicOutput} at {@code args[0]} exactly as a
 * conversion does, writes a shard into it, says "ready" and waits for "exit" on stdin (or a signal), so the test
 * kills it at a known point in the middle of a conversion.
 */
public final class HoldOutput {
    private HoldOutput() {
    }

    public static void main(String[] args) throws Exception {
        try (AtomicOutput out = AtomicOutput.create(Path.of(args[0]), false)) {
            Files.write(out.dir().resolve("shard_00000.bin"), new byte[1 << 20]);
            System.out.println("ready " + out.dir());
            System.out.flush();
            // only "exit" ends it normally; at end of input (Process.destroy closes the pipes) it waits for the
            // signal, so a test sees what the signal alone leaves behind
            if (!"exit".equals(new BufferedReader(new InputStreamReader(System.in)).readLine())) {
                Thread.sleep(Long.MAX_VALUE);
            }
        }
    }
}
