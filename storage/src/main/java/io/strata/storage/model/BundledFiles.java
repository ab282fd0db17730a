package io.strata.storage.model;

import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the non-tensor files a manifest lists (the bundled tokenizer) against their recorded BLAKE3 hashes, for
 * {@code verify} and for whoever reads them from a model directory: a tampered tokenizer.json would silently change
 * every id, so it is held to the same standard as a shard.
 */
public final class BundledFiles {
    private BundledFiles() {
    }

    /** The problems found, as verify reports them (shard -1); empty when every listed file is intact. */
    public static List<ModelVerifier.Problem> verify(Path dir, Manifest m) throws IOException {
        List<ModelVerifier.Problem> problems = new ArrayList<>();
        if (m.tokenizer() == null) {
            return problems;
        }
        for (BundledFile b : m.tokenizer().files()) {
            Path p = dir.resolve(b.filename());
            String reason = null;
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                reason = Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? "not a regular file" : "missing";
            } else if (Files.size(p) != b.size()) {
                reason = "is " + Files.size(p) + " bytes, the manifest says " + b.size();
            } else if (!ShardHasher.fileHash(p).equals(b.hash())) {
                reason = "whole-file hash mismatch";
            }
            if (reason != null) {
                problems.add(new ModelVerifier.Problem(-1, b.filename(), -1, 0, b.size(), null, reason));
            }
        }
        return problems;
    }
}
