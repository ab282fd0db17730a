package io.strata.tools.commands;

import io.strata.core.util.Sizes;
import io.strata.storage.model.ModelVerifier;
import io.strata.tools.progress.ProgressBar;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code strata verify}: re-hash every shard and chunk of a converted model. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Check a converted model's shards against the hashes in its manifest.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Reads DIR/manifest.json, then re-hashes (BLAKE3) every chunk of every",
                "  shard, every whole shard and every expert group, using all cores. Every",
                "  problem is reported on its own line, naming the shard file, the chunk",
                "  and its byte range.",
                "  A DOPPLER manifest has no chunk hashes: each whole shard is checked",
                "  against its SHA-256 and each tensor against its block Merkle root",
                "  (integrityExtensions), and a problem names the shard or the tensor.",
                "  DOPPLER's own \"blake3\" is not standard BLAKE3: such shard hashes are",
                "  reported as not checkable (not as damage); the tensor roots still are.",
                "  A GGUF file has no hashes at all: its structure (header, tensor offsets",
                "  and sizes) is validated, and it is reported as NOT VERIFIED (no hashes:",
                "  unverifiable), exit status 1."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:every hash matches", "1:a shard is missing, resized or damaged, some bytes cannot be"
                + " checked, or the manifest is invalid",
                "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata verify ./mixtral-strata")
public final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "A converted model directory (from shard-convert), or"
            + " a .gguf file.")
    Path dir;

    @Option(names = {"-q", "--quiet"}, description = "Print only problems.")
    boolean quiet;

    @Option(names = "--progress", description = "Show the progress bar even when not on a terminal.")
    boolean progress;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long total = Files.isDirectory(dir) ? totalSize() : 0;
        ProgressBar bar = ProgressBar.wanted(quiet, progress) ? new ProgressBar(err, "verifying", total) : null;
        ModelVerifier.Report r = ModelVerifier.verify(dir, done -> {
            if (bar != null) {
                bar.update(done, null);
            }
        });
        if (bar != null) {
            bar.finish(r.bytes(), r.ok() ? "ok" : "FAILED");
        }
        for (ModelVerifier.Problem p : r.problems()) {
            err.println("strata verify: " + dir + ": " + p);
        }
        for (String n : r.notes()) {
            err.println("strata verify: " + dir + ": note: " + n);
        }
        err.flush();
        if (!r.problems().isEmpty()) {
            err.println("strata verify: " + dir + ": FAILED, " + r.problems().size() + " problem(s)");
            err.flush();
            return 1;
        }
        if (!r.verified()) {
            err.println("strata verify: " + dir + ": NOT VERIFIED: some bytes have no hash Strata can check (see the"
                    + " notes); none was found damaged");
            err.flush();
            return 1;
        }
        if (!quiet) {
            String what = r.hashAlgorithm().equals(io.strata.core.manifest.Manifest.HASH_BLAKE3)
                    ? r.shards() + " shards, " + r.chunks() + " chunks"
                    : r.shards() + " shards (" + r.hashAlgorithm() + ")"
                    + (r.tensors() > 0 ? ", " + r.tensors() + " tensors by block Merkle root" : "");
            out.println("OK: " + what + ", " + Sizes.format(r.bytes()) + " verified; manifest " + r.manifestHash());
            out.flush();
        }
        return 0;
    }

    private long totalSize() {
        try {
            return io.strata.core.manifest.ManifestCodec.read(dir).totalSize();
        } catch (RuntimeException e) {
            return 0; // verify() reports the manifest's problem
        }
    }
}
