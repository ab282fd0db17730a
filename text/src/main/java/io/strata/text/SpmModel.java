package io.strata.text;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SentencePiece-style BPE driven by piece scores, as llama.cpp runs GGUF {@code llama} vocabularies: the text
 * starts as one symbol per character; the adjacent pair whose concatenation is a vocabulary piece with the
 * highest score is merged first (leftmost on ties) until no pair forms a piece; a character that is no piece
 * becomes its {@code <0xXX>} byte tokens, or the unknown token.
 */
final class SpmModel extends TokenModel {
    private final int[] rankOf; // 0 = highest score; equal scores share a rank
    private final int unkId;

    SpmModel(String[] tokens, float[] scores, int unkId) {
        super(tokens);
        Integer[] order = new Integer[tokens.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        rankOf = new int[tokens.length];
        int rank = 0;
        for (int k = 0; k < order.length; k++) {
            if (k > 0 && Float.compare(scores[order[k]], scores[order[k - 1]]) != 0) {
                rank = k;
            }
            rankOf[order[k]] = rank;
        }
        this.unkId = unkId;
    }

    @Override
    void tokenize(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0, off = 0; i < n; i++) {
            start[i] = off;
            off += Character.charCount(text.codePointAt(off));
            end[i] = off;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            push(heap, text, start[i], end[i + 1], i);
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int left = (int) top;
            int rank = (int) (top >>> 32);
            if (dead[left] || next[left] < 0) {
                continue;
            }
            int right = next[left];
            Integer id = vocab.get(text.substring(start[left], end[right]));
            if (id == null || rankOf[id] != rank) {
                continue; // stale: a side changed since the pair was queued
            }
            end[left] = end[right];
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                push(heap, text, start[prev[left]], end[left], prev[left]);
            }
            if (next[left] >= 0) {
                push(heap, text, start[left], end[next[left]], left);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            String piece = text.substring(start[i], end[i]);
            Integer id = vocab.get(piece);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                int bid = byteIds[b & 0xFF] >= 0 ? byteIds[b & 0xFF] : unkId;
                if (bid < 0) {
                    throw new TokenizerException("vocabulary has neither byte token <0x"
                            + String.format("%02X", b & 0xFF) + "> nor an unknown token for '" + piece + "'");
                }
                out.add(bid);
            }
        }
    }

    private void push(LongHeap heap, String text, int from, int to, int left) {
        Integer id = vocab.get(text.substring(from, to));
        if (id != null) {
            heap.push(((long) rankOf[id] << 32) | left);
        }
    }
}
