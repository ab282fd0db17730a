package io.strata.core.memory;

import io.strata.core.util.Sizes;

/**
 * Per-device memory figures for a model under a parallel layout. Formulas (b = dtype bytes, per device):
 * <ul>
 * <li>dense = L_dev x (attention/TP + router + norms) + max(embedding, lm_head)/TP on the largest stage (all of
 * embedding + lm_head/TP + final norm when PP = 1);</li>
 * <li>experts = L_dev x ceil(E/EP) x expert/TP;</li>
 * <li>KV = L_dev x 2 x ceil(kv_heads/TP) x head_dim x seq x ceil(batch/DP) x b;</li>
 * <li>activations (prefill of one layer, flash-style attention, no seq x seq scores) = T x b x (2 hidden +
 * (heads + 2 kv_heads) head_dim/TP + 2 topK intermediate/TP) + ceil(batch/DP) x vocab/TP x 4 (fp32 logits),
 * with T = ceil(batch/DP) x seq tokens;</li>
 * <li>comm buffers, double-buffered: TP all-reduce 2 T hidden b; EP all-to-all 2 x 2 T topK hidden b (dispatch +
 * combine); PP send/recv 2 T hidden b.</li>
 * </ul>
 * Experts per layer a tier can hold: what is left of device memory after the rest, and the host memory, each
 * divided by L_dev x one expert slice. Products saturate ({@link Sizes#times}), so a plan that overflows 64 bits
 * reports "does not fit" instead of a negative size.
 */
public final class MemoryPlanner {
    private MemoryPlanner() {
    }

    public static MemoryPlan plan(ModelShape s, Parallelism p, int batch, int seq, long deviceMem, long hostMem) {
        if (batch < 1 || seq < 1) {
            throw new IllegalArgumentException("--batch and --seq must be at least 1");
        }
        int layersDev = Math.ceilDiv(s.layers(), p.pp());
        int expertsDev = Math.ceilDiv(s.expertsPerLayer(), p.ep());
        long b = s.dtypeBytes();
        long tp = p.tp();
        // every product saturates at Long.MAX_VALUE (Sizes.times), so absurd inputs plan as "does not fit"
        long perLayerDense = Sizes.plus(s.attentionBytes() / tp, s.routerBytes(), s.layerNormBytes());
        long edges = p.pp() == 1 ? Sizes.plus(s.embeddingBytes() / tp, s.lmHeadBytes() / tp, s.finalNormBytes())
                : Math.max(s.embeddingBytes() / tp, Sizes.plus(s.lmHeadBytes() / tp, s.finalNormBytes()));
        long dense = Sizes.plus(Sizes.times(layersDev, perLayerDense), edges);
        long expertEach = s.expertBytes() / tp;
        long experts = Sizes.times(layersDev, expertsDev, expertEach);
        long batchDev = Math.ceilDiv(batch, p.dp());
        long kv = Sizes.times(layersDev, 2, Math.ceilDiv(s.kvHeads(), p.tp()), s.headDim(), seq, batchDev, b);
        long tokens = Sizes.times(batchDev, seq);
        long perToken = Sizes.plus(2L * s.hidden(), Sizes.times(s.heads() + 2L * s.kvHeads(), s.headDim()) / tp,
                Sizes.times(2, s.topK(), s.expertIntermediate()) / tp);
        long act = Sizes.plus(Sizes.times(tokens, b, perToken), Sizes.times(Sizes.times(batchDev, s.vocab()) / tp, 4));
        long comm = 0;
        if (p.tp() > 1) {
            comm = Sizes.plus(comm, Sizes.times(2, tokens, s.hidden(), b));
        }
        if (p.ep() > 1) {
            comm = Sizes.plus(comm, Sizes.times(2, 2, tokens, s.topK(), s.hidden(), b));
        }
        if (p.pp() > 1) {
            comm = Sizes.plus(comm, Sizes.times(2, tokens, s.hidden(), b));
        }
        long perLayerSlot = Math.max(1, Sizes.times(layersDev, expertEach));
        long rest = Sizes.plus(dense, kv, act, comm);
        long deviceLeft = Sizes.saturated(rest) ? 0 : deviceMem - rest;
        int deviceSlots = deviceLeft <= 0 ? 0 : (int) Math.min(expertsDev, deviceLeft / perLayerSlot);
        int hostSlots = (int) Math.min(expertsDev - deviceSlots, Math.max(0, hostMem) / perLayerSlot);
        return new MemoryPlan(s, p, batch, seq, deviceMem, hostMem, layersDev, expertsDev, dense, experts,
                expertEach, kv, act, comm, deviceSlots, hostSlots);
    }
}
