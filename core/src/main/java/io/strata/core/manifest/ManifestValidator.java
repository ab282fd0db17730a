package io.strata.core.manifest;

import io.strata.core.model.Layout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a manifest's internal consistency: every tensor inside its shard, no two tensors overlapping, sizes
 * matching shapes and dtypes, hashes well-formed with the right chunk count (none when the algorithm is not BLAKE3),
 * expert groups contiguous in one shard and covering exactly their tensors, block Merkle roots naming real tensors. The first problem found is thrown, naming the file, field and reason.
 */
final class ManifestValidator {
    private static final Pattern HEX32 = Pattern.compile("[0-9a-f]{64}");

    private ManifestValidator() {
    }

    public static void validate(Manifest m, String source) {
        String src = source + ": ";
        if (m.version() < 1 || m.version() > Manifest.CURRENT_VERSION) {
            throw new ManifestException(src + "version: " + m.version() + " is not supported (this build reads 1.."
                    + Manifest.CURRENT_VERSION + ")");
        }
        String alg = m.hashAlgorithmOrBlake3();
        if (!alg.equals(Manifest.HASH_BLAKE3) && !alg.equals(Manifest.HASH_SHA256)
                && !alg.equals(Manifest.HASH_DOPPLER_BLAKE3)) {
            throw new ManifestException(src + "hashAlgorithm: '" + m.hashAlgorithm() + "' is not supported ("
                    + Manifest.HASH_BLAKE3 + ", " + Manifest.HASH_SHA256 + ")");
        }
        if (m.chunkSize() <= 0) {
            throw new ManifestException(src + "chunkSize: must be positive, got " + m.chunkSize());
        }
        for (int i = 0; i < m.shards().size(); i++) {
            ShardInfo s = m.shards().get(i);
            String f = "shards[" + i + "]";
            if (s.index() != i) {
                throw new ManifestException(src + f + ".index: expected " + i + ", got " + s.index());
            }
            if (s.filename() == null || s.filename().isEmpty() || s.filename().contains("/")
                    || s.filename().contains("\\") || s.filename().startsWith(".")) {
                throw new ManifestException(src + f + ".filename: '" + s.filename() + "' is not a plain file name");
            }
            if (s.filename().chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
                throw new ManifestException(src + f + ".filename: '" + s.filename().replace("\0", "\\0")
                        + "' contains a control character (NUL, newline, ...)");
            }
            if (s.size() < 0) {
                throw new ManifestException(src + f + ".size: negative");
            }
            checkHash(src, f + ".hash", s.hash());
            if (!m.hasChunkHashes()) {
                if (!s.chunks().isEmpty()) {
                    throw new ManifestException(src + f + ".chunks: per-chunk hashes are BLAKE3, but the manifest's"
                            + " hashAlgorithm is " + alg);
                }
                continue;
            }
            int want;
            try {
                want = ShardInfo.chunkCount(s.size(), m.chunkSize());
            } catch (ArithmeticException e) {
                throw new ManifestException(src + f + ".size: " + s.size() + " bytes in chunks of " + m.chunkSize()
                        + " would be more than " + Integer.MAX_VALUE + " chunks");
            }
            if (s.chunks().size() != want) {
                throw new ManifestException(src + f + ".chunks: " + s.chunks().size() + " hashes, expected " + want
                        + " for " + s.size() + " bytes in chunks of " + m.chunkSize());
            }
            for (int c = 0; c < s.chunks().size(); c++) {
                checkHash(src, f + ".chunks[" + c + "]", s.chunks().get(c));
            }
        }
        if (m.tokenizer() != null) {
            m.tokenizer().validate(src, m.chunkSize());
        }
        Map<Integer, List<long[]>> ranges = new HashMap<>();
        Map<String, TensorInfo> byName = new HashMap<>();
        for (Map.Entry<String, List<TensorInfo>> e : m.tensors().entrySet()) {
            List<TensorInfo> entries = e.getValue();
            for (int k = 0; k < entries.size(); k++) {
                TensorInfo t = entries.get(k);
                String f = "tensors['" + e.getKey() + "']" + (entries.size() > 1 ? "[" + k + "]" : "");
                checkTensor(m, src, f, t, entries.size(), k, ranges);
                byName.putIfAbsent(e.getKey(), t);
            }
        }
        for (Map.Entry<Integer, List<long[]>> e : ranges.entrySet()) {
            List<long[]> rs = e.getValue();
            rs.sort(Comparator.comparingLong(r -> r[0]));
            for (int i = 1; i < rs.size(); i++) {
                if (rs.get(i)[0] < rs.get(i - 1)[1]) {
                    throw new ManifestException(src + "tensors: two tensors overlap in shard " + e.getKey()
                            + " at byte " + rs.get(i)[0]);
                }
            }
        }
        for (Map.Entry<String, GroupInfo> e : m.groups().entrySet()) {
            checkGroup(m, src, "groups['" + e.getKey() + "']", e.getValue());
        }
        if (m.moeConfig() != null) {
            checkMoe(m, src, m.moeConfig());
        }
        if (m.integrityExtensions() != null) {
            checkIntegrity(m, src, m.integrityExtensions());
        }
    }

    private static void checkIntegrity(Manifest m, String src, IntegrityExtensions ie) {
        String f = "integrityExtensions";
        if (ie.contractVersion() != null && ie.contractVersion() != IntegrityExtensions.CONTRACT_VERSION) {
            throw new ManifestException(src + f + ".contractVersion: " + ie.contractVersion() + " is not supported"
                    + " (this build reads " + IntegrityExtensions.CONTRACT_VERSION + ")");
        }
        BlockMerkle bm = ie.blockMerkle();
        if (bm == null) {
            return;
        }
        if (bm.blockSize() <= 0 || bm.blockSize() > Integer.MAX_VALUE) {
            throw new ManifestException(src + f + ".blockMerkle.blockSize: must be between 1 and "
                    + Integer.MAX_VALUE + ", got " + bm.blockSize());
        }
        for (Map.Entry<String, String> e : bm.roots().entrySet()) {
            String field = f + ".blockMerkle.roots['" + e.getKey() + "']";
            List<TensorInfo> entries = m.tensors().get(e.getKey());
            if (entries == null) {
                throw new ManifestException(src + field + ": no tensor of that name");
            }
            if (entries.size() != 1) {
                throw new ManifestException(src + field + ": the tensor has " + entries.size() + " TP slices; a root"
                        + " covers one stored tensor");
            }
            String r = e.getValue();
            if (r == null || !r.startsWith(BlockMerkle.PREFIX)
                    || !HEX32.matcher(r.substring(BlockMerkle.PREFIX.length())).matches()) {
                throw new ManifestException(src + field + ": not '" + BlockMerkle.PREFIX + "' and 64 lowercase hex"
                        + " digits: '" + r + "'");
            }
        }
    }

    /**
     * Counts the runtime sizes arrays by (experts per layer, MoE layers, top-k) must be what the shards can hold:
     * every expert takes at least its group's bytes, so a manifest cannot claim more experts than fit in its
     * shards.
     */
    private static void checkMoe(Manifest m, String src, MoeConfig moe) {
        long total = 0;
        for (ShardInfo s : m.shards()) {
            total += s.size();
            if (total < 0) {
                throw new ManifestException(src + "shards: the sizes add up to more than " + Long.MAX_VALUE + " bytes");
            }
        }
        long smallest = Long.MAX_VALUE;
        int expertGroups = 0;
        for (GroupInfo g : m.groups().values()) {
            if (g.isExpert()) {
                expertGroups++;
                smallest = Math.min(smallest, g.size());
            }
        }
        long each = Math.max(1, expertGroups == 0 ? moe.expertBytes() : smallest);
        if (moe.numExperts() < 0 || moe.numExperts() > total / each) {
            throw new ManifestException(src + "moeConfig.numExperts: " + moe.numExperts() + " experts of at least "
                    + each + " bytes cannot be held by the manifest's " + total + " shard bytes");
        }
        if (moe.numExpertsPerToken() < 0 || moe.numExpertsPerToken() > Math.max(1, moe.numExperts())) {
            throw new ManifestException(src + "moeConfig.numExpertsPerToken: " + moe.numExpertsPerToken()
                    + " is not between 0 and numExperts " + moe.numExperts());
        }
        if (moe.numMoeLayers() < 0 || (expertGroups > 0 && moe.numMoeLayers() > expertGroups)) {
            throw new ManifestException(src + "moeConfig.numMoeLayers: " + moe.numMoeLayers() + " is not between 0"
                    + " and the " + expertGroups + " expert groups listed");
        }
        if (moe.expertBytes() < 0 || moe.expertBytes() > total) {
            throw new ManifestException(src + "moeConfig.expertBytes: " + moe.expertBytes() + " is not between 0"
                    + " and the manifest's " + total + " shard bytes");
        }
    }

    private static void checkTensor(Manifest m, String src, String f, TensorInfo t, int entries, int k,
                                    Map<Integer, List<long[]>> ranges) {
        if (t.dtype() == null) {
            throw new ManifestException(src + f + ".dtype: missing or unknown");
        }
        for (long d : t.shape()) {
            if (d < 0) {
                throw new ManifestException(src + f + ".shape: negative dimension " + d);
            }
        }
        long expect;
        try {
            expect = t.dtype().bytesFor(t.shape().stream().mapToLong(Long::longValue).toArray());
        } catch (ArithmeticException ex) {
            throw new ManifestException(src + f + ".shape: element count overflows");
        } catch (IllegalArgumentException ex) {
            throw new ManifestException(src + f + ".shape: " + t.shape() + ": " + ex.getMessage());
        }
        if (t.size() != expect) {
            throw new ManifestException(src + f + ".size: " + t.size() + " bytes, but shape " + t.shape() + " of "
                    + t.dtype() + " needs " + expect);
        }
        int sc = t.sliceCountOrOne();
        if (sc != entries && !(entries == 1 && sc == 1)) {
            throw new ManifestException(src + f + ".sliceCount: " + sc + " but " + entries + " entries are listed");
        }
        if (entries > 1 && t.sliceIdxOrZero() != k) {
            throw new ManifestException(src + f + ".sliceIdx: expected " + k + ", got " + t.sliceIdx());
        }
        if (entries == 1 && t.originalShape() != null && t.layoutOrRow() == Layout.ROW
                && !t.originalShape().equals(t.shape()) && !isPaddedRows(t)) {
            throw new ManifestException(src + f + ".originalShape: " + t.originalShape() + " is neither the stored"
                    + " shape " + t.shape() + " nor that shape with its rows padded to whole " + t.dtype() + " blocks");
        }
        if (t.sliceDim() != null && (t.sliceDim() < 0 || t.sliceDim() >= t.shape().size())) {
            throw new ManifestException(src + f + ".sliceDim: " + t.sliceDim() + " is not a dimension of " + t.shape());
        }
        if (t.spans() != null) {
            long total = 0;
            for (Span s : t.spans()) {
                checkRange(m, src, f + ".spans", s.shardIndex(), s.offset(), s.size(), ranges);
                total += s.size();
            }
            if (total != t.size()) {
                throw new ManifestException(src + f + ".spans: cover " + total + " bytes, tensor is " + t.size());
            }
            return;
        }
        checkRange(m, src, f, t.shard(), t.offset(), t.size(), ranges);
    }

    /**
     * Rows padded to whole blocks: a quantised row-major tensor whose rows (last dimension) are not a whole number of
     * blocks is stored with each row padded up to one (the padding decodes to values the matvec multiplies by zero
     * activations); {@code shape} is then the padded stored shape and {@code originalShape} the real one.
     */
    private static boolean isPaddedRows(TensorInfo t) {
        List<Long> o = t.originalShape();
        List<Long> s = t.shape();
        if (!t.dtype().isQuantized() || o.size() != s.size() || o.isEmpty()
                || !o.subList(0, o.size() - 1).equals(s.subList(0, s.size() - 1))) {
            return false;
        }
        long cols = o.getLast();
        long bs = t.dtype().blockSize();
        return cols > 0 && cols % bs != 0 && s.getLast() == Math.ceilDiv(cols, bs) * bs;
    }

    private static void checkRange(Manifest m, String src, String f, int shard, long offset, long size,
                                   Map<Integer, List<long[]>> ranges) {
        if (shard < 0 || shard >= m.shards().size()) {
            throw new ManifestException(src + f + ".shard: " + shard + " is not a shard index (0.."
                    + (m.shards().size() - 1) + ")");
        }
        long shardSize = m.shards().get(shard).size();
        if (offset < 0 || size < 0 || offset > shardSize || size > shardSize - offset) {
            throw new ManifestException(src + f + ".offset: bytes [" + offset + ", " + (offset + size)
                    + ") lie outside shard " + shard + " of " + shardSize + " bytes");
        }
        if (size > 0) {
            ranges.computeIfAbsent(shard, x -> new ArrayList<>()).add(new long[]{offset, offset + size});
        }
    }

    private static void checkGroup(Manifest m, String src, String f, GroupInfo g) {
        if (g.shards().size() != 1) {
            throw new ManifestException(src + f + ".shards: a group lives in exactly one shard, got " + g.shards());
        }
        int shard = g.shard();
        if (shard < 0 || shard >= m.shards().size()) {
            throw new ManifestException(src + f + ".shards: " + shard + " is not a shard index");
        }
        long shardSize = m.shards().get(shard).size();
        if (g.offset() < 0 || g.size() < 0 || g.offset() + g.size() > shardSize) {
            throw new ManifestException(src + f + ".offset: group range lies outside shard " + shard);
        }
        if (g.hash() != null) {
            checkHash(src, f + ".hash", g.hash());
        }
        if (g.isExpert() && (g.layerIndex() == null || g.expertIndex() == null)) {
            throw new ManifestException(src + f + ": an expert group needs layerIndex and expertIndex");
        }
        for (String name : g.tensors()) {
            List<TensorInfo> entries = m.tensors().get(name);
            if (entries == null) {
                throw new ManifestException(src + f + ".tensors: '" + name + "' is not in tensors");
            }
            for (TensorInfo t : entries) {
                if (t.spans() != null || t.shard() != shard || t.offset() < g.offset()
                        || t.offset() + t.size() > g.offset() + g.size()) {
                    throw new ManifestException(src + f + ".tensors: '" + name + "' is not inside the group's range");
                }
            }
        }
        if (g.isExpert() && m.moeConfig() != null && g.expertIndex() >= m.moeConfig().numExperts()) {
            throw new ManifestException(src + f + ".expertIndex: " + g.expertIndex() + " >= numExperts "
                    + m.moeConfig().numExperts());
        }
    }

    private static void checkHash(String src, String field, String hex) {
        if (hex == null || !HEX32.matcher(hex).matches()) {
            throw new ManifestException(src + field + ": not a 32-byte lowercase hex hash: '" + hex + "'");
        }
    }

}
