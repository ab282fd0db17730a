package io.strata.storage.model;

import io.strata.core.manifest.BlockMerkle;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.Span;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.function.LongConsumer;

/**
 * {@link ModelVerifier} for a manifest without chunk hashes (DOPPLER's): every whole shard against its hash and
 * every tensor against its block Merkle root, hashed in parallel over the shards' mappings, every mismatch named
 * (shard or tensor). A shard hashed with DOPPLER's non-standard blake3 is not damage when it fails to match
 * standard BLAKE3: the report says it was not checked, and counts it verified only when every byte of it lies in
 * tensors whose roots matched.
 */
final class UnitCheck {
    private UnitCheck() {
    }

    static ModelVerifier.Report verify(Path dir, Manifest m, String manifestHash, LongConsumer hashedBytes)
            throws IOException {
        List<ModelVerifier.Problem> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        boolean doppler = Manifest.HASH_DOPPLER_BLAKE3.equals(m.hashAlgorithm());
        String alg = doppler ? Manifest.HASH_BLAKE3 : Manifest.HASH_SHA256;
        BlockMerkle bm = m.blockMerkle().orElse(null);
        boolean[] present = new boolean[m.shards().size()];
        ExecutorService pool = ShardHasher.newPool("strata-verify");
        long bytes = 0;
        int tensors = 0;
        boolean verified = true;
        try (ShardReader reader = ShardReader.open(dir, m)) {
            List<CompletableFuture<String>> whole = new ArrayList<>();
            for (ShardInfo s : m.shards()) {
                ModelVerifier.Problem p = ModelVerifier.fileProblem(dir, s);
                present[s.index()] = p == null;
                if (p != null) {
                    problems.add(p);
                    whole.add(null);
                    continue;
                }
                MemorySegment seg = reader.segment(s.index());
                whole.add(CompletableFuture.supplyAsync(() -> ShardHasher.wholeHash(seg, alg), pool));
                bytes += s.size();
            }
            List<String> names = new ArrayList<>();
            List<CompletableFuture<String>> roots = new ArrayList<>();
            if (bm != null) {
                for (String name : bm.roots().keySet()) {
                    List<Span> spans = m.tensor(name).ranges();
                    if (spans.stream().allMatch(sp -> present[sp.shardIndex()])) {
                        List<MemorySegment> parts = new ArrayList<>();
                        for (Span sp : spans) {
                            parts.add(reader.segment(sp.shardIndex()).asSlice(sp.offset(), sp.size()));
                        }
                        names.add(name);
                        roots.add(CompletableFuture.supplyAsync(() -> ShardHasher.blockMerkleRoot(parts,
                                bm.blockSize()), pool));
                    }
                }
            }
            try {
                for (int k = 0; k < names.size(); k++) {
                    String name = names.get(k);
                    tensors++;
                    if (!roots.get(k).join().equals(bm.rootHex(name).orElseThrow())) {
                        Span first = m.tensor(name).ranges().getFirst();
                        problems.add(new ModelVerifier.Problem(first.shardIndex(),
                                m.shard(first.shardIndex()).filename(), -1, first.offset(),
                                first.offset() + first.size(), null, name, "block Merkle root mismatch"));
                    }
                }
                for (ShardInfo s : m.shards()) {
                    CompletableFuture<String> f = whole.get(s.index());
                    if (f == null || f.join().equals(s.hash())) {
                        continue;
                    }
                    if (!doppler) {
                        problems.add(new ModelVerifier.Problem(s.index(), s.filename(), -1, 0, s.size(), null,
                                "whole-file sha256 mismatch"));
                        continue;
                    }
                    long unrooted = s.size() - rootedBytes(m, bm, s.index());
                    if (unrooted == 0) {
                        notes.add("shard " + s.index() + " (" + s.filename() + "): its hash was made by DOPPLER's"
                                + " blake3, which is not standard BLAKE3, so it was not checked; every byte of it"
                                + " lies in tensors checked against their block Merkle roots");
                    } else {
                        verified = false;
                        notes.add("shard " + s.index() + " (" + s.filename() + "): its hash was made by DOPPLER's"
                                + " blake3, which is not standard BLAKE3, and " + unrooted + " of its bytes lie in"
                                + " no tensor with a block Merkle root: those bytes cannot be checked (this is not"
                                + " known damage)");
                    }
                }
            } catch (CompletionException e) {
                throw new IOException(dir + ": cannot hash: " + e.getCause().getMessage(), e.getCause());
            }
        } finally {
            pool.shutdownNow();
        }
        hashedBytes.accept(bytes);
        return new ModelVerifier.Report(manifestHash, m.hashAlgorithmOrBlake3(), m.shards().size(), 0, tensors,
                bytes, List.copyOf(problems), List.copyOf(notes), verified);
    }

    /** Bytes of shard {@code shard} inside tensors that have a root. */
    private static long rootedBytes(Manifest m, BlockMerkle bm, int shard) {
        if (bm == null) {
            return 0;
        }
        List<long[]> rs = new ArrayList<>();
        for (Map.Entry<String, String> e : bm.roots().entrySet()) {
            for (Span sp : m.tensor(e.getKey()).ranges()) {
                if (sp.shardIndex() == shard) {
                    rs.add(new long[]{sp.offset(), sp.offset() + sp.size()});
                }
            }
        }
        rs.sort(Comparator.comparingLong(r -> r[0]));
        long n = 0;
        long at = 0;
        for (long[] r : rs) {
            long lo = Math.max(at, r[0]);
            if (r[1] > lo) {
                n += r[1] - lo;
                at = r[1];
            }
        }
        return n;
    }
}
