package io.strata.core.model;

import java.util.Optional;

/**
 * The three matrices of a SwiGLU expert, {@code down(silu(gate·x) ⊙ up·x)}, and every name they go by: Mixtral's
 * {@code w1/w3/w2} (also the runtime's keys, whatever the checkpoint's spelling), Hugging Face's
 * {@code gate_proj/up_proj/down_proj}, and GGUF's fused per-layer tensors {@code ffn_gate_exps/ffn_up_exps/
 * ffn_down_exps}. The constant order is the order an expert's group stores (and a kernel reads) them.
 */
public enum ExpertProjection {
    GATE("w1", "gate_proj", "ffn_gate_exps", TpSplit.COLUMN_PARALLEL),
    UP("w3", "up_proj", "ffn_up_exps", TpSplit.COLUMN_PARALLEL),
    DOWN("w2", "down_proj", "ffn_down_exps", TpSplit.ROW_PARALLEL);

    private final String key;
    private final String hfName;
    private final String ggufFused;
    private final TpSplit tpSplit;

    ExpertProjection(String key, String hfName, String ggufFused, TpSplit tpSplit) {
        this.key = key;
        this.hfName = hfName;
        this.ggufFused = ggufFused;
        this.tpSplit = tpSplit;
    }

    /** Mixtral's name ({@code w1}, {@code w3}, {@code w2}): the key the runtime and manifests use. */
    public String key() {
        return key;
    }

    /** Hugging Face's {@code *_proj} name (Qwen, OLMoE, DeepSeek, dense MLPs). */
    public String hfName() {
        return hfName;
    }

    /** GGUF's fused tensor of all experts of one layer, without the {@code blk.N.} prefix or {@code .weight}. */
    public String ggufFusedName() {
        return ggufFused;
    }

    public TpSplit tpSplit() {
        return tpSplit;
    }

    /** The projection a name component spells, in either vocabulary ({@code w1} or {@code gate_proj}). */
    public static Optional<ExpertProjection> fromComponent(String component) {
        for (ExpertProjection p : values()) {
            if (p.key.equals(component) || p.hfName.equals(component)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The projection for the runtime key {@code w1}/{@code w3}/{@code w2}. */
    public static ExpertProjection ofKey(String key) {
        for (ExpertProjection p : values()) {
            if (p.key.equals(key)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown expert projection '" + key + "' (w1 = gate, w3 = up, w2 = down)");
    }
}
