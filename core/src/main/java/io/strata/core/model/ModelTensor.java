package io.strata.core.model;

/**
 * Every kind of tensor a supported decoder reads, with its name in both vocabularies Strata meets: Hugging Face
 * ({@code model.layers.N.} + suffix; {@code {moe}} stands for the family's MoE block, {@code block_sparse_moe} or
 * {@code mlp}) and GGUF ({@code blk.N.} + suffix, llama.cpp's names). Routed experts are not here: they are
 * {@link ExpertProjection}s, addressed by (layer, expert). Names are resolved for a family by
 * {@link ModelFamily#tensorName(ModelTensor, int)}; names are parsed by {@link TensorNaming}.
 */
public enum ModelTensor {
    EMBEDDING(false, "model.embed_tokens.weight", "token_embd.weight", Role.EMBEDDING, TpSplit.REPLICATED),
    FINAL_NORM(false, "model.norm.weight", "output_norm.weight", Role.NORM, TpSplit.REPLICATED),
    LM_HEAD(false, "lm_head.weight", "output.weight", Role.LM_HEAD, TpSplit.REPLICATED),

    INPUT_NORM(true, "input_layernorm.weight", "attn_norm.weight", Role.NORM, TpSplit.REPLICATED),
    ATTN_Q(true, "self_attn.q_proj.weight", "attn_q.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    ATTN_K(true, "self_attn.k_proj.weight", "attn_k.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    ATTN_V(true, "self_attn.v_proj.weight", "attn_v.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    ATTN_O(true, "self_attn.o_proj.weight", "attn_output.weight", Role.MATMUL, TpSplit.ROW_PARALLEL),
    ATTN_Q_BIAS(true, "self_attn.q_proj.bias", "attn_q.bias", Role.OTHER, TpSplit.REPLICATED),
    ATTN_K_BIAS(true, "self_attn.k_proj.bias", "attn_k.bias", Role.OTHER, TpSplit.REPLICATED),
    ATTN_V_BIAS(true, "self_attn.v_proj.bias", "attn_v.bias", Role.OTHER, TpSplit.REPLICATED),
    /** Per-head RMSNorm of queries and keys (Qwen3). */
    Q_NORM(true, "self_attn.q_norm.weight", "attn_q_norm.weight", Role.NORM, TpSplit.REPLICATED),
    K_NORM(true, "self_attn.k_norm.weight", "attn_k_norm.weight", Role.NORM, TpSplit.REPLICATED),
    POST_NORM(true, "post_attention_layernorm.weight", "ffn_norm.weight", Role.NORM, TpSplit.REPLICATED),
    /** The router (gate) of a sparse layer, [num_experts, hidden]. */
    ROUTER(true, "{moe}.gate.weight", "ffn_gate_inp.weight", Role.ROUTER, TpSplit.REPLICATED),
    /** The MLP of a dense layer (Qwen's mlp_only_layers / decoder_sparse_step). */
    DENSE_GATE(true, "mlp.gate_proj.weight", "ffn_gate.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    DENSE_UP(true, "mlp.up_proj.weight", "ffn_up.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    DENSE_DOWN(true, "mlp.down_proj.weight", "ffn_down.weight", Role.MATMUL, TpSplit.ROW_PARALLEL),
    /** Qwen2-MoE's always-on shared expert and its scalar gate: dense, not routed. */
    SHARED_GATE(true, "mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight", Role.MATMUL,
            TpSplit.COLUMN_PARALLEL),
    SHARED_UP(true, "mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight", Role.MATMUL, TpSplit.COLUMN_PARALLEL),
    SHARED_DOWN(true, "mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight", Role.MATMUL,
            TpSplit.ROW_PARALLEL),
    SHARED_EXPERT_GATE(true, "mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight", Role.MATMUL,
            TpSplit.REPLICATED);

    static final String MOE_BLOCK = "{moe}";

    private final boolean perLayer;
    private final String hfName;
    private final String ggufName;
    private final Role role;
    private final TpSplit tpSplit;

    ModelTensor(boolean perLayer, String hfName, String ggufName, Role role, TpSplit tpSplit) {
        this.perLayer = perLayer;
        this.hfName = hfName;
        this.ggufName = ggufName;
        this.role = role;
        this.tpSplit = tpSplit;
    }

    /** Whether the name carries a layer index ({@code model.layers.N.}, {@code blk.N.}). */
    public boolean perLayer() {
        return perLayer;
    }

    /** The Hugging Face name (suffix after {@code model.layers.N.} when per layer; may hold {@code {moe}}). */
    String hfTemplate() {
        return hfName;
    }

    /** The GGUF name for {@code layer} (ignored for global tensors). */
    public String ggufName(int layer) {
        return perLayer ? "blk." + layer + "." + ggufName : ggufName;
    }

    /** The GGUF suffix after {@code blk.N.} (or the whole name of a global tensor). */
    String ggufSuffix() {
        return ggufName;
    }

    public Role role() {
        return role;
    }

    public TpSplit tpSplit() {
        return tpSplit;
    }
}
