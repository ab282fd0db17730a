package io.strata.text;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding with a ranked merge list, as the Hugging Face BPE model does it: a word starts as one
 * symbol per character (optionally with continuing-subword prefix / end-of-word suffix), characters outside the
 * vocabulary become {@code <0xXX>} byte tokens (byte_fallback) or the unknown token (fused when fuse_unk), then
 * the lowest-ranked adjacent pair is merged, leftmost first, until no pair merges. With ignore_merges a word
 * that is itself in the vocabulary is taken whole. Words are cached: natural text repeats them constantly.
 */
final class BpeModel extends TokenModel {
    private static final int CACHE_LIMIT = 200_000;
    private static final int CACHED_WORD_LENGTH = 64;

    private final PairTable merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final String prefix;
    private final String suffix;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param merges each merge as its two parts, in rank order
     * @param where  names the merges field in errors (file and field)
     */
    BpeModel(Map<String, Integer> vocab, List<String[]> merges, String unkToken, boolean fuseUnk, boolean byteFallback,
             String prefix, String suffix, boolean ignoreMerges, String where) {
        super(vocab);
        if (unkToken != null && !vocab.containsKey(unkToken)) {
            throw new TokenizerException(where + ": unk_token '" + unkToken + "' is not in the vocabulary");
        }
        this.unkId = unkToken == null ? -1 : vocab.get(unkToken);
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.prefix = prefix == null || prefix.isEmpty() ? null : prefix;
        this.suffix = suffix == null || suffix.isEmpty() ? null : suffix;
        this.ignoreMerges = ignoreMerges;
        this.merges = new PairTable(merges.size());
        int prefixLen = this.prefix == null ? 0 : this.prefix.length();
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            Integer a = vocab.get(m[0]);
            Integer b = vocab.get(m[1]);
            if (a == null || b == null) {
                throw new TokenizerException(where + "[" + rank + "]: token '" + (a == null ? m[0] : m[1])
                        + "' is not in the vocabulary");
            }
            String right = prefixLen > 0 && m[1].startsWith(this.prefix) ? m[1].substring(prefixLen) : m[1];
            Integer merged = vocab.get(m[0] + right);
            if (merged == null) {
                throw new TokenizerException(where + "[" + rank + "]: merged token '" + m[0] + right
                        + "' is not in the vocabulary");
            }
            this.merges.putIfAbsent(a, b, rank, merged);
        }
    }

    @Override
    void tokenize(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        if (word.length() > CACHED_WORD_LENGTH) {
            out.addAll(merge(word)); // a whole unsplit text (no pre-tokenizer): not worth keeping
            return;
        }
        int[] hit = cache.get(word);
        if (hit == null) {
            hit = merge(word);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, hit);
        }
        out.addAll(hit);
    }

    private int[] merge(String w) {
        IntList syms = new IntList(w.length());
        int pendingUnk = -1;
        for (int i = 0; i < w.length(); ) {
            int cp = w.codePointAt(i);
            int next = i + Character.charCount(cp);
            String s = w.substring(i, next);
            if (i > 0 && prefix != null) {
                s = prefix + s;
            }
            if (next == w.length() && suffix != null) {
                s = s + suffix;
            }
            i = next;
            Integer id = vocab.get(s);
            if (id != null) {
                if (pendingUnk >= 0) {
                    syms.add(pendingUnk);
                    pendingUnk = -1;
                }
                syms.add(id);
                continue;
            }
            if (byteFallback) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) {
                    all &= byteIds[b & 0xFF] >= 0;
                }
                if (all) {
                    for (byte b : bytes) {
                        syms.add(byteIds[b & 0xFF]);
                    }
                    continue;
                }
            }
            if (unkId >= 0) {
                if (pendingUnk >= 0 && !fuseUnk) {
                    syms.add(pendingUnk);
                }
                pendingUnk = unkId;
            }
        }
        if (pendingUnk >= 0) {
            syms.add(pendingUnk);
        }
        int n = syms.size();
        int[] ids = syms.toArray();
        if (n < 2) {
            return ids;
        }
        int[] prev = new int[n];
        int[] nxt = new int[n];
        boolean[] dead = new boolean[n];
        LongHeap heap = new LongHeap(n);
        for (int k = 0; k < n; k++) {
            prev[k] = k - 1;
            nxt[k] = k + 1 < n ? k + 1 : -1;
            if (k + 1 < n) {
                long m = merges.get(ids[k], ids[k + 1]);
                if (m >= 0) {
                    heap.push((m & 0xFFFFFFFF00000000L) | k);
                }
            }
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (dead[pos] || nxt[pos] < 0) {
                continue;
            }
            int right = nxt[pos];
            long m = merges.get(ids[pos], ids[right]);
            if (m < 0 || (int) (m >>> 32) != rank) {
                continue; // stale: this symbol changed since the pair was queued
            }
            ids[pos] = (int) m;
            dead[right] = true;
            nxt[pos] = nxt[right];
            if (nxt[right] >= 0) {
                prev[nxt[right]] = pos;
            }
            if (prev[pos] >= 0) {
                long pm = merges.get(ids[prev[pos]], ids[pos]);
                if (pm >= 0) {
                    heap.push((pm & 0xFFFFFFFF00000000L) | prev[pos]);
                }
            }
            if (nxt[pos] >= 0) {
                long nm = merges.get(ids[pos], ids[nxt[pos]]);
                if (nm >= 0) {
                    heap.push((nm & 0xFFFFFFFF00000000L) | pos);
                }
            }
        }
        IntList out = new IntList(n);
        for (int k = 0; k >= 0; k = nxt[k]) {
            out.add(ids[k]);
        }
        return out.toArray();
    }
}
