package io.strata.core.memory;

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
 * divided by L_dev x one expert slice.
 */
public final class MemoryPlanner {
    private MemoryPlanner() {
    }

    public static MemoryPlan plan(ModelShape s, Parallelism p, int batch, int seq, long deviceMem, long hostMem) {
        if (batch < 1 || seq < 1) {
            throw new IllegalArgumentException("--batch and --seq must be at least 1");
        }
        int layersDev = ceilDiv(s.layers(), p.pp());
        int expertsDev = ceilDiv(s.expertsPerLayer(), p.ep());
        long b = s.dtypeBytes();
        long perLayerDense = s.attentionBytes() / p.tp() + s.routerBytes() + s.layerNormBytes();
        long edges = p.pp() == 1 ? s.embeddingBytes() / p.tp() + s.lmHeadBytes() / p.tp() + s.finalNormBytes()
                : Math.max(s.embeddingBytes() / p.tp(), s.lmHeadBytes() / p.tp() + s.finalNormBytes());
        long dense = layersDev * perLayerDense + edges;
        long expertEach = s.expertBytes() / p.tp();
        long experts = (long) layersDev * expertsDev * expertEach;
        long batchDev = ceilDiv(batch, p.dp());
        long kv = (long) layersDev * 2 * ceilDiv(s.kvHeads(), p.tp()) * s.headDim() * seq * batchDev * b;
        long tokens = batchDev * seq;
        long act = tokens * b * (2L * s.hidden() + (long) (s.heads() + 2 * s.kvHeads()) * s.headDim() / p.tp()
                + 2L * s.topK() * s.expertIntermediate() / p.tp()) + batchDev * s.vocab() / p.tp() * 4;
        long comm = 0;
        if (p.tp() > 1) {
            comm += 2 * tokens * s.hidden() * b;
        }
        if (p.ep() > 1) {
            comm += 2 * 2 * tokens * s.topK() * s.hidden() * b;
        }
        if (p.pp() > 1) {
            comm += 2 * tokens * s.hidden() * b;
        }
        long perLayerSlot = layersDev * expertEach;
        long deviceLeft = deviceMem - dense - kv - act - comm;
        int deviceSlots = deviceLeft <= 0 ? 0 : (int) Math.min(expertsDev, deviceLeft / perLayerSlot);
        int hostSlots = (int) Math.min(expertsDev - deviceSlots, Math.max(0, hostMem) / perLayerSlot);
        return new MemoryPlan(s, p, batch, seq, deviceMem, hostMem, layersDev, expertsDev, dense, experts,
                expertEach, kv, act, comm, deviceSlots, hostSlots);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
